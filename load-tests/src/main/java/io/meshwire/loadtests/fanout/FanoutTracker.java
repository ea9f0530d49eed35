package io.meshwire.loadtests.fanout;

import io.meshwire.loadtests.report.Latencies;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code FanoutTracker} times changes from their write to their arrival at every watcher. A change
 * is known by the revision its store gave it (the hub's revision, etcd's mod revision); a watcher
 * may see it before the writer learns that revision, so whichever side comes first creates the
 * entry. Only revisions seen while {@link #arm armed} are tracked, at most {@code maxChanges}.
 *
 * <p>Thread-safety: thread-safe. Each watcher writes only its own slot of a change's arrival
 * array, so arrivals need no lock; completion is counted with an atomic counter.
 */
public final class FanoutTracker {

  private final int watchers;
  private final int maxChanges;
  private final Map<Long, Change> changes = new ConcurrentHashMap<>();
  private volatile boolean armed;

  public FanoutTracker(int watchers, int maxChanges) {
    this.watchers = watchers;
    this.maxChanges = maxChanges;
  }

  /** One tracked change: when it was written and when each watcher got it (0: not yet). */
  public final class Change {
    private final long revision;
    private final long[] arrivals = new long[watchers];
    private final AtomicInteger remaining = new AtomicInteger(watchers);
    private final CompletableFuture<Void> all = new CompletableFuture<>();
    private volatile long startNanos;

    private Change(long revision) {
      this.revision = revision;
    }

    void arrived(int watcher, long nanos) {
      if (arrivals[watcher] == 0) {
        arrivals[watcher] = nanos;
        if (remaining.decrementAndGet() == 0) {
          all.complete(null);
        }
      }
    }

    /** Waits until every watcher has the change; false when {@code within} passed first. */
    public boolean awaitAll(Duration within) {
      try {
        all.get(within.toMillis(), TimeUnit.MILLISECONDS);
        return true;
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        throw new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    public long revision() {
      return revision;
    }

    public int missing() {
      return remaining.get();
    }
  }

  /** Starts (or stops) accepting arrivals for unknown revisions. */
  public void arm(boolean on) {
    armed = on;
  }

  /** The writer: the change at {@code revision} was written at {@code startNanos}. */
  public Change written(long revision, long startNanos) {
    Change c = changes.computeIfAbsent(revision, Change::new);
    c.startNanos = startNanos;
    return c;
  }

  /** A watcher ({@code 0 <= watcher < watchers}) received the change at {@code revision}. */
  public void arrived(long revision, int watcher, long nanos) {
    Change c = changes.get(revision);
    if (c == null) {
      if (!armed || changes.size() >= maxChanges) {
        return;
      }
      c = changes.computeIfAbsent(revision, Change::new);
    }
    c.arrived(watcher, nanos);
  }

  /** What the tracked changes add up to. */
  public record Summary(int changes, int incomplete, Latencies allWatchers, Latencies perDelivery) {}

  /**
   * Latency to the last watcher per change ({@code allWatchers}: the fan-out time) and per
   * (change, watcher) delivery. Changes never written (seen only by watchers) are ignored;
   * incomplete ones count from what arrived.
   */
  public Summary summarize() {
    List<Long> all = new ArrayList<>();
    long[] deliveries = new long[changes.size() * watchers];
    int d = 0;
    int incomplete = 0;
    int written = 0;
    for (Change c : changes.values()) {
      long start = c.startNanos;
      if (start == 0) {
        continue;
      }
      written++;
      long last = 0;
      for (long a : c.arrivals) {
        if (a != 0) {
          deliveries[d++] = Math.max(0, a - start);
          last = Math.max(last, a - start);
        }
      }
      if (c.remaining.get() > 0) {
        incomplete++;
      } else {
        all.add(last);
      }
    }
    long[] perChange = all.stream().mapToLong(Long::longValue).toArray();
    long[] perDelivery = java.util.Arrays.copyOf(deliveries, d);
    return new Summary(written, incomplete, Latencies.ofNanos(perChange), Latencies.ofNanos(perDelivery));
  }
}
