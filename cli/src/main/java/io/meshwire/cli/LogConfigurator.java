package io.meshwire.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * {@code LogConfigurator} sets up logging for every meshwire process: one event per line,
 * key=value, on stderr (stdout carries command output: keys, tables, the agent's READY line), INFO
 * and above. Found by logback through {@code META-INF/services}; written in code rather than a
 * {@code logback.xml} because reading XML loads about 600 classes (logback's Joran, the JDK's XML
 * parser): the agent measured 3.8 MiB RSS and about 0.3 s of start more with it
 * ({@code bench agent}, load-tests/README.md).
 *
 * <p>A {@code -Dlogback.configurationFile} or a {@code logback-test.xml} on the class path (the
 * benchmarks, tests) takes precedence: then this configurator steps aside.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

  static final String PATTERN = "ts=%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} level=%level logger=%logger{0} thread=%thread %msg%n";

  private final java.util.function.BooleanSupplier configuredElsewhere;

  /** Logback's constructor (ServiceLoader): steps aside for a configuration file, see above. */
  public LogConfigurator() {
    this(() -> System.getProperty("logback.configurationFile") != null
        || LogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null);
  }

  /** A test's: whether another configuration takes precedence, without looking at the class path. */
  LogConfigurator(java.util.function.BooleanSupplier configuredElsewhere) {
    this.configuredElsewhere = configuredElsewhere;
  }

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (configuredElsewhere.getAsBoolean()) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(stderr);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
