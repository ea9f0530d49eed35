package io.meshwire.agent.reflect;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.meshwire.certs.FakeClock;
import io.meshwire.reflection.kube.McsCrds;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The wait for the MCS CRDs on a fake clock: checks every interval, warns once, starts once. */
class CrdWaitTest {

  private static final Duration EVERY = Duration.ofSeconds(30);

  /** Each check answers within milliseconds: poll often, from the start. */
  private static org.awaitility.core.ConditionFactory soon() {
    return await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10));
  }

  @Test
  void waitsWithOneWarningAndTheGaugeUpThenStartsOnceWhenTheKindsAreServed() {
    ManualDelays delays = new ManualDelays(new FakeClock());
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    AtomicReference<McsCrds.Served> answer = new AtomicReference<>(
        new McsCrds.Served.Missing(List.of("serviceexports.multicluster.x-k8s.io")));
    AtomicInteger handled = new AtomicInteger();
    AtomicInteger started = new AtomicInteger();
    Executor owner = task -> {
      task.run();
      handled.incrementAndGet();
    };
    Logger logger = (Logger) LoggerFactory.getLogger(CrdWait.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try (CrdWait wait = new CrdWait(answer::get, EVERY, delays, owner, started::incrementAndGet, meters)) {
      wait.check();
      soon().until(() -> handled.get() == 1);
      for (int n = 2; n <= 10; n++) {
        delays.advance(EVERY);
        int checks = n;
        soon().until(() -> handled.get() == checks);
      }
      assertEquals(1.0, meters.get("meshwire.agent.reflection.crds.missing").gauge().value());
      assertEquals(0, started.get());
      List<String> warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN)
          .map(ILoggingEvent::getFormattedMessage).toList();
      assertEquals(1, warnings.size(), warnings.toString());

      answer.set(new McsCrds.Served.Yes());
      delays.advance(EVERY);
      soon().until(() -> started.get() == 1);
      assertEquals(0.0, meters.get("meshwire.agent.reflection.crds.missing").gauge().value());
      delays.advance(EVERY.multipliedBy(10));
      assertEquals(11, handled.get(), "no check once served");
      assertEquals(1, started.get());
    } finally {
      logger.detachAppender(logs);
    }
  }
}
