package io.meshwire.hub.server;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code StartPhases}: where a hub's start went, for the {@code hub started} log line
 * ({@code start_ms=jvm:..,ca:..,...}): restart to serving is a capacity figure (agents wait for it),
 * and the breakdown says which part to work on. Phases are consecutive on the starting thread;
 * {@link #record} adds one that ran elsewhere (the TLS context, built beside the store's recovery).
 * Thread-safe.
 */
final class StartPhases {

  private final long started = System.nanoTime();
  // @GuardedBy("this"): phase name to milliseconds, in the order they ended
  private final Map<String, Long> phases = new LinkedHashMap<>();
  // @GuardedBy("this")
  private long lastMark = started;

  /**
   * Starts the clock; the first phase, {@code jvm}, is the time from the JVM's start to now (none
   * when {@code jvmStart} is empty, as in tests that start hubs in a long-lived JVM).
   */
  static StartPhases begin(Optional<Instant> jvmStart) {
    StartPhases phases = new StartPhases();
    jvmStart.ifPresent(t -> phases.record("jvm", Duration.between(t, Instant.now())));
    return phases;
  }

  /** Ends the phase {@code name}, which ran from the previous mark to now. */
  synchronized void mark(String name) {
    long now = System.nanoTime();
    phases.merge(name, TimeUnit.NANOSECONDS.toMillis(now - lastMark), Long::sum);
    lastMark = now;
  }

  /** Adds a phase that ran beside the others (its time does not count towards the marks). */
  synchronized void record(String name, Duration took) {
    phases.put(name, Math.max(0, took.toMillis()));
  }

  /** {@code jvm:812,ca:40,...,total:2210}; {@code total} counts from {@link #begin}, the JVM excluded. */
  synchronized String describe() {
    StringBuilder out = new StringBuilder();
    phases.forEach((name, ms) -> out.append(name).append(':').append(ms).append(','));
    return out.append("total:").append(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).toString();
  }
}
