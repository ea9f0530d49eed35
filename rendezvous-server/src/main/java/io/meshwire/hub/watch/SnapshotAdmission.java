package io.meshwire.hub.watch;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.function.LongSupplier;

/**
 * {@code SnapshotAdmission} bounds how many watchers receive a snapshot at once. A watcher that
 * finds every permit taken waits in line (first come, first served) and gets the next permit
 * released, handed over directly: the stream stays open, no permit sits idle while watchers wait,
 * and nobody pays a refusal and a return trip. Waiting costs the hub only the open stream. Only
 * beyond {@code maxWaiting} watchers in line is one turned away, told when to come back: not one
 * fixed delay for everybody (they would all return together and most be refused again), but
 * staggered return times behind the line, spaced by how fast snapshots actually complete. Resumes
 * never pass through here: they cost no snapshot.
 *
 * <p>Each refusal reserves the next return slot: {@code max(now + base, now + line x spacing,
 * previous slot + spacing)}, where spacing is the average time a snapshot holds its permit divided
 * by the number of permits (the rate at which permits free up), times a margin below 1 so slots
 * are never left idle. Until a snapshot has completed there is no measured rate and every refusal
 * gets {@code base}. Agents add their own jitter on top. Thread-safe.
 */
final class SnapshotAdmission {

  /** Hints never exceed this, whatever the queue. */
  static final Duration MAX_HINT = Duration.ofMinutes(2);
  /** Slots are spaced a little tighter than the measured rate, so a freed permit rarely waits. */
  private static final double SPACING_MARGIN = 0.75;
  /** Weight of the newest completed snapshot in the average hold time. */
  private static final double EWMA_WEIGHT = 0.2;

  /**
   * One watcher's request for a permit: granted (at {@link #grantedAtNanos()}), waiting in line, or
   * refused with a retry hint.
   */
  static final class Ticket {
    private final Runnable onGrant;
    private final Duration refusedRetryAfter;
    private volatile long grantedAtNanos = -1; // written under the admission's lock

    private Ticket(Runnable onGrant, Duration refusedRetryAfter) {
      this.onGrant = onGrant;
      this.refusedRetryAfter = refusedRetryAfter;
    }

    /** When the permit was handed to this watcher (nanoTime), or -1 while it waits or was refused. */
    long grantedAtNanos() {
      return grantedAtNanos;
    }

    boolean granted() {
      return grantedAtNanos >= 0;
    }

    /** The hint of a refused watcher, or null when it holds or waits for a permit. */
    Duration refusedRetryAfter() {
      return refusedRetryAfter;
    }
  }

  private final int permitCount;
  private final int maxWaiting;
  private final long baseNanos;
  private final LongSupplier nanoClock;
  private final Object lock = new Object();
  // @GuardedBy("lock"): permits nobody holds; never above 0 while someone waits
  private int free;
  // @GuardedBy("lock"): watchers in line for a permit, oldest first
  private final LinkedHashSet<Ticket> waiting = new LinkedHashSet<>();
  // @GuardedBy("lock"): average permit hold time of completed snapshots; 0 until the first
  private double averageHoldNanos;
  // @GuardedBy("lock"): the return time given to the last refused watcher
  private long lastSlotNanos;
  private boolean anySlot;

  /**
   * @param permits snapshots sent at once
   * @param maxWaiting watchers that may wait in line for a permit (0: refuse at once when none is free)
   * @param base the smallest retry hint
   */
  SnapshotAdmission(int permits, int maxWaiting, Duration base, LongSupplier nanoClock) {
    this.free = permits;
    this.permitCount = permits;
    this.maxWaiting = maxWaiting;
    this.baseNanos = base.toNanos();
    this.nanoClock = nanoClock;
  }

  /**
   * Asks for a permit. Granted at once when one is free and nobody waits; else the watcher waits in
   * line and {@code onGrant} runs (on the releasing thread, outside any lock) once the permit is
   * its own; with the line full, refused.
   */
  Ticket acquire(Runnable onGrant) {
    synchronized (lock) {
      long now = nanoClock.getAsLong();
      if (free > 0) {
        free--;
        Ticket t = new Ticket(onGrant, null);
        t.grantedAtNanos = now;
        return t;
      }
      if (waiting.size() < maxWaiting) {
        Ticket t = new Ticket(onGrant, null);
        waiting.add(t);
        return t;
      }
      return new Ticket(onGrant, refusedRetryAfter(now));
    }
  }

  /**
   * Leaves the line (the stream ended). False when the permit was handed over meanwhile: the
   * caller holds it and must {@link #release} it.
   */
  boolean withdraw(Ticket ticket) {
    synchronized (lock) {
      if (ticket.granted()) {
        return false;
      }
      waiting.remove(ticket);
      return true;
    }
  }

  /**
   * Gives back a permit taken at {@code acquiredNanos}; {@code completed} when the snapshot was
   * sent whole (only those measure the rate). The next watcher in line, if any, gets it.
   */
  void release(long acquiredNanos, boolean completed) {
    Ticket next;
    synchronized (lock) {
      long now = nanoClock.getAsLong();
      if (completed) {
        long held = Math.max(0, now - acquiredNanos);
        averageHoldNanos = averageHoldNanos == 0 ? held
            : (1 - EWMA_WEIGHT) * averageHoldNanos + EWMA_WEIGHT * held;
      }
      Iterator<Ticket> oldest = waiting.iterator();
      if (!oldest.hasNext()) {
        free++;
        return;
      }
      next = oldest.next();
      oldest.remove();
      next.grantedAtNanos = now;
    }
    next.onGrant.run();
  }

  /** Watchers waiting in line for a permit. */
  int waiting() {
    synchronized (lock) {
      return waiting.size();
    }
  }

  // @GuardedBy("lock"): the retry hint for a watcher refused now; reserves its return slot
  private Duration refusedRetryAfter(long now) {
    if (averageHoldNanos == 0) {
      return Duration.ofNanos(baseNanos);
    }
    long spacing = (long) (SPACING_MARGIN * averageHoldNanos / permitCount);
    // Behind everybody in line: they are served first.
    long slot = now + Math.max(baseNanos, waiting.size() * spacing);
    if (anySlot && lastSlotNanos + spacing - slot > 0) {
      slot = lastSlotNanos + spacing;
    }
    slot = Math.min(slot, now + MAX_HINT.toNanos());
    lastSlotNanos = slot;
    anySlot = true;
    return Duration.ofNanos(slot - now);
  }
}
