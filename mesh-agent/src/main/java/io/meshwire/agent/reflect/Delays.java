package io.meshwire.agent.reflect;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code Delays} runs a task once after a delay: the one way reflection waits (startup grace,
 * periodic resync, CRD re-checks, server retries, coalesced catalog writes), so tests move time by
 * hand instead of sleeping. The task runs on a thread of the implementation's choosing: callers
 * that own a thread hand it over there. After shutdown a task may silently never run.
 */
@FunctionalInterface
interface Delays {

  void after(Duration delay, Runnable task);

  /** Delays on {@code executor}; tasks refused because it shut down are dropped (closing). */
  static Delays on(ScheduledExecutorService executor) {
    return (delay, task) -> {
      try {
        executor.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException closing) {
        // shut down: nothing left to run
      }
    };
  }
}
