package io.meshwire.agent.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A peer endpoint name that does not resolve is counted on every pass and logged once. */
class SystemResolverTest {

  @Test
  void anUnresolvableNameIsCountedEveryTimeAndLoggedOnce() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    SystemResolver resolver = new SystemResolver(meters);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger logger = (Logger) LoggerFactory.getLogger(SystemResolver.class);
    logger.addAppender(logs);
    try {
      for (int i = 0; i < 3; i++) {
        assertThrows(UnknownHostException.class, () -> resolver.resolve("gw.west.invalid")); // RFC 6761: never resolves
      }
      assertEquals(3, meters.get("meshwire.agent.endpoint.resolve.failures").counter().count());
      assertEquals(1, logs.list.stream().filter(e -> e.getLevel() == Level.WARN).count());
      assertEquals("198.18.0.2", resolver.resolve("198.18.0.2").getHostAddress(), "a literal needs no lookup");
    } finally {
      logger.detachAppender(logs);
    }
  }
}
