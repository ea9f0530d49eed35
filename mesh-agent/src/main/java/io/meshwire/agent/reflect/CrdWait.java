package io.meshwire.agent.reflect;

import io.meshwire.netaddr.Durations;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.McsCrds;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code CrdWait} waits until the API server serves the Multi-Cluster Services kinds
 * ({@link McsCrds}), then runs {@code onServed} once. Until then it checks again every
 * {@code interval}, with one warning (not an error per second from informers) and the gauge
 * {@code meshwire_agent_reflection_crds_missing} at 1.
 *
 * <p>The probe runs on this object's own thread ({@code reflection-crds}): the Kubernetes client
 * has no read timeout (informers need that), and an API server that accepts but never answers must
 * not stall its owner. Results, and {@code onServed}, are handed to the owner's executor; the
 * fields below are owned by that executor's thread.
 */
final class CrdWait implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CrdWait.class);

  private final Supplier<McsCrds.Served> probe;
  private final Duration interval;
  private final Delays delays;
  private final Executor owner;
  private final Runnable onServed;
  private final AtomicInteger missing = new AtomicInteger();
  private final ExecutorService probeThread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "reflection-crds");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean closed;
  private boolean served; // owned by the owner's thread
  private boolean reported; // owned by the owner's thread

  CrdWait(Supplier<McsCrds.Served> probe, Duration interval, Delays delays, Executor owner, Runnable onServed,
      MeterRegistry meters) {
    this.probe = probe;
    this.interval = interval;
    this.delays = delays;
    this.owner = owner;
    this.onServed = onServed;
    Gauge.builder("meshwire.agent.reflection.crds.missing", missing, AtomicInteger::get)
        .description("1 while the API server does not serve the Multi-Cluster Services CRDs (reflection waits)")
        .register(meters);
  }

  /** Checks now (from any thread); the result goes to the owner. */
  void check() {
    if (closed) {
      return;
    }
    try {
      probeThread.execute(() -> {
        McsCrds.Served result = probe.get();
        owner.execute(() -> checked(result));
      });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closed meanwhile
    }
  }

  /** Whether the kinds were found served (on the owner's thread). */
  boolean served() {
    return served;
  }

  private void checked(McsCrds.Served result) {
    if (closed || served) {
      return;
    }
    String why;
    switch (result) {
      case McsCrds.Served.Yes yes -> {
        served = true;
        missing.set(0);
        if (reported) {
          log.info("reflection resumes: the Multi-Cluster Services CRDs are served now");
        }
        onServed.run();
        return;
      }
      case McsCrds.Served.Missing m -> why = "the API server does not serve " + String.join(", ", m.kinds())
          + ": install the Multi-Cluster Services CRDs (" + Mcs.API_VERSION + "; Helm: crds.install=true)";
      case McsCrds.Served.Unknown u -> why = "cannot tell whether the Multi-Cluster Services CRDs are served: "
          + u.reason();
    }
    missing.set(1);
    if (!reported) {
      log.warn("reflection waiting: {}; checking every {}", why, Durations.format(interval));
      reported = true;
    } else {
      log.debug("reflection still waiting: {}", why);
    }
    delays.after(interval, this::check);
  }

  @Override
  public void close() {
    closed = true;
    probeThread.shutdownNow();
  }
}
