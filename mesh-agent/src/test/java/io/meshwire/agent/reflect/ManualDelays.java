package io.meshwire.agent.reflect;

import io.meshwire.certs.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * {@code ManualDelays} is {@link Delays} on a {@link FakeClock}: nothing runs until a test calls
 * {@link #advance}, which moves the clock and runs what fell due, in due order, on the calling
 * thread. Thread-safe.
 */
final class ManualDelays implements Delays {

  private record Due(Instant at, long seq, Runnable task) {}

  private final FakeClock clock;
  private final PriorityQueue<Due> queue = new PriorityQueue<>((x, y) -> x.at().equals(y.at())
      ? Long.compare(x.seq(), y.seq()) : x.at().compareTo(y.at()));
  private long seq;

  ManualDelays(FakeClock clock) {
    this.clock = clock;
  }

  @Override
  public synchronized void after(Duration delay, Runnable task) {
    queue.add(new Due(clock.instant().plus(delay), seq++, task));
  }

  /** Moves the clock by {@code by}, running every task that falls due (also ones scheduled meanwhile). */
  void advance(Duration by) {
    Instant target = clock.instant().plus(by);
    while (true) {
      List<Runnable> due = new ArrayList<>();
      synchronized (this) {
        Due next = queue.peek();
        if (next == null || next.at().isAfter(target)) {
          break;
        }
        if (next.at().isAfter(clock.instant())) {
          clock.set(next.at());
        }
        while (!queue.isEmpty() && !queue.peek().at().isAfter(clock.instant())) {
          due.add(queue.poll().task());
        }
      }
      due.forEach(Runnable::run); // outside the lock: a task may schedule again
    }
    clock.set(target);
  }
}
