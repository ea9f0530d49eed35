package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class LogConfiguratorTest {

  @Test
  void logbackFindsTheConfiguratorInTheJar() {
    assertTrue(ServiceLoader.load(ch.qos.logback.classic.spi.Configurator.class).stream()
        .anyMatch(p -> p.type() == LogConfigurator.class));
  }

  @Test
  void eventsAreOneKeyValueLineOnStderrFromInfoUp() {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter()); // what logback's SLF4J provider does for the real context
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      LogConfigurator configurator = new LogConfigurator(() -> false); // a test-classpath logback-test.xml must not matter
      configurator.setContext(context);
      assertEquals(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, configurator.configure(context));
      context.getLogger("io.meshwire.agent.Agent").debug("not shown");
      context.getLogger("io.meshwire.agent.Agent").info("state applied peers=1");
    } finally {
      context.stop();
      System.setErr(err);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    assertTrue(out.matches("ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z level=INFO logger=Agent thread=\\S+ "
        + "state applied peers=1\\n"), "[" + out + "]");
  }

  @Test
  void anExplicitConfigurationFileTakesPrecedence() {
    String before = System.getProperty("logback.configurationFile");
    System.setProperty("logback.configurationFile", "other.xml");
    try {
      LoggerContext context = new LoggerContext();
      LogConfigurator configurator = new LogConfigurator();
      configurator.setContext(context);
      assertEquals(ExecutionStatus.INVOKE_NEXT_IF_ANY, configurator.configure(context));
      assertFalse(context.getLogger("root").iteratorForAppenders().hasNext(), "nothing configured");
    } finally {
      if (before == null) {
        System.clearProperty("logback.configurationFile");
      } else {
        System.setProperty("logback.configurationFile", before);
      }
    }
  }
}
