package io.meshwire.hub.watch;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.function.LongSupplier;

/**
 * {@code SnapshotAdmission} bounds how many watchers receive a snapshot at once, and tells the ones
 * it turns away when to come back: not one fixed delay for everybody (they would all return
 * together and most be refused again), but staggered return times that grow with the queue, spaced
 * by how fast snapshots actually complete. Resumes never pass through here: they cost no snapshot.
 *
 * <p>Each refusal reserves the next return slot: {@code max(now + base, previous slot + spacing)},
 * where spacing is the average time a snapshot holds its permit divided by the number of permits
 * (the rate at which permits free up), times a margin below 1 so slots are never left idle. Until a
 * snapshot has completed there is no measured rate and every refusal gets {@code base}. Agents add
 * their own jitter on top. Thread-safe.
 */
final class SnapshotAdmission {

  /** Hints never exceed this, whatever the queue. */
  static final Duration MAX_HINT = Duration.ofMinutes(2);
  /** Slots are spaced a little tighter than the measured rate, so a freed permit rarely waits. */
  private static final double SPACING_MARGIN = 0.75;
  /** Weight of the newest completed snapshot in the average hold time. */
  private static final double EWMA_WEIGHT = 0.2;

  private final Semaphore permits;
  private final int permitCount;
  private final long baseNanos;
  private final LongSupplier nanoClock;
  private final Object lock = new Object();
  // @GuardedBy("lock"): average permit hold time of completed snapshots; 0 until the first
  private double averageHoldNanos;
  // @GuardedBy("lock"): the return time given to the last refused watcher
  private long lastSlotNanos;
  private boolean anySlot;

  SnapshotAdmission(int permits, Duration base, LongSupplier nanoClock) {
    this.permits = new Semaphore(permits);
    this.permitCount = permits;
    this.baseNanos = base.toNanos();
    this.nanoClock = nanoClock;
  }

  /** Takes a permit if one is free; returns the time it was taken, or -1 when none is free. */
  long tryAcquire() {
    return permits.tryAcquire() ? nanoClock.getAsLong() : -1;
  }

  /**
   * Gives back a permit taken at {@code acquiredNanos}; {@code completed} when the snapshot was
   * sent whole (only those measure the rate).
   */
  void release(long acquiredNanos, boolean completed) {
    if (completed) {
      long held = Math.max(0, nanoClock.getAsLong() - acquiredNanos);
      synchronized (lock) {
        averageHoldNanos = averageHoldNanos == 0 ? held
            : (1 - EWMA_WEIGHT) * averageHoldNanos + EWMA_WEIGHT * held;
      }
    }
    permits.release();
  }

  /** The retry hint for a watcher refused now; reserves its return slot. */
  Duration refusedRetryAfter() {
    long now = nanoClock.getAsLong();
    synchronized (lock) {
      if (averageHoldNanos == 0) {
        return Duration.ofNanos(baseNanos);
      }
      long spacing = (long) (SPACING_MARGIN * averageHoldNanos / permitCount);
      long slot = now + baseNanos;
      if (anySlot && lastSlotNanos + spacing - slot > 0) {
        slot = lastSlotNanos + spacing;
      }
      slot = Math.min(slot, now + MAX_HINT.toNanos());
      lastSlotNanos = slot;
      anySlot = true;
      return Duration.ofNanos(slot - now);
    }
  }
}
