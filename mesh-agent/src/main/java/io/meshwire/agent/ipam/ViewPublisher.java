package io.meshwire.agent.ipam;

import io.grpc.Status;
import io.meshwire.agent.hub.HubErrors;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.View;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.netaddr.Backoff;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ViewPublisher} tells the hub how this cluster sees its peers, so that each peer (and only
 * it) learns how to translate its own addresses on the way here. It publishes the views that remap
 * something (a view that maps every CIDR to itself is what a peer assumes without one) and
 * withdraws those of peers that left or are now seen as themselves.
 *
 * <p>When: after every announce ({@link #trigger()} from the hub session) and whenever the IPAM
 * changes a decision. Each view is sent with a fresh generation, {@code max(old + 1, now millis)},
 * persisted first, so it is always greater than anything the hub stored, also after a restart.
 * Within one process only views not yet acknowledged are sent; the first round after start sends
 * all of them and withdraws every other known peer's (the hub may hold a stale one). A failed call
 * is retried with backoff while a hub session is up; without one, the next session's announce
 * triggers it. If the hub refuses a batch (a subject it no longer knows), views are sent one by one
 * and the refused ones are logged.
 *
 * <p>Thread-safety: publishing runs on {@code executor} (one thread); {@link #publishNow()} is
 * synchronized and holds the acknowledged set.
 */
public final class ViewPublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ViewPublisher.class);

  /** The hub's limit of views and of withdrawals per call. */
  public static final int MAX_PER_CALL = 256;

  /** The hub call, {@code HubClient::publishViews}. */
  @FunctionalInterface
  public interface Hub {
    /** Publishes {@code views} and withdraws the views of {@code withdrawn}; returns the hub revision. */
    long publishViews(List<View> views, List<String> withdrawn);
  }

  /** What one round sent. */
  public record Round(List<View> published, List<String> withdrawn, List<String> refused) {
    public static final Round NOTHING = new Round(List.of(), List.of(), List.of());
  }

  private final MeshSync sync;
  private final Supplier<Optional<Hub>> hub;
  private final InstantSource clock;
  private final ScheduledExecutorService executor;
  private final Backoff backoff;
  private final AtomicBoolean queued = new AtomicBoolean();
  private final Counter publishedViews;
  private final Counter failures;
  // @GuardedBy("this"): views the hub acknowledged in this process, by subject
  private final Map<String, View> acked = new HashMap<>();
  // @GuardedBy("this")
  private boolean firstRound = true;
  // @GuardedBy("this")
  private int failedAttempts;

  /**
   * @param hub the hub to publish to, empty while no session is up
   * @param executor runs rounds and retries; owned by this publisher ({@link #close()} stops it)
   */
  public ViewPublisher(MeshSync sync, Supplier<Optional<Hub>> hub, InstantSource clock,
      ScheduledExecutorService executor, Backoff backoff, MeterRegistry meters) {
    this.sync = Objects.requireNonNull(sync, "sync");
    this.hub = Objects.requireNonNull(hub, "hub");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.executor = Objects.requireNonNull(executor, "executor");
    this.backoff = Objects.requireNonNull(backoff, "backoff");
    this.publishedViews = Counter.builder("meshwire.agent.views.published")
        .description("Views of peers acknowledged by the hub").register(meters);
    this.failures = Counter.builder("meshwire.agent.views.publish.errors")
        .description("Failed or refused view publications (retried)").register(meters);
  }

  /** Asks for a round soon; requests while one is queued collapse into it. */
  public void trigger() {
    if (queued.compareAndSet(false, true)) {
      try {
        executor.execute(() -> {
          queued.set(false);
          publishNow();
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        queued.set(false); // closed
      }
    }
  }

  /** One round on the calling thread: publish what the hub has not acknowledged. */
  public synchronized Round publishNow() {
    Optional<Hub> target = hub.get();
    if (target.isEmpty()) {
      return Round.NOTHING;
    }
    AgentState s = sync.state();
    Map<String, View> remapped = remapped(s);
    Set<String> toSend = new TreeSet<>();
    remapped.forEach((subject, view) -> {
      if (!view.equals(acked.get(subject))) {
        toSend.add(subject);
      }
    });
    Set<String> withdraw = new TreeSet<>(acked.keySet());
    if (firstRound) {
      withdraw.addAll(s.peers().keySet());
      withdraw.addAll(s.myViews().keySet());
    }
    withdraw.removeAll(remapped.keySet());
    if (toSend.isEmpty() && withdraw.isEmpty()) {
      firstRound = false;
      return Round.NOTHING;
    }
    if (!toSend.isEmpty()) {
      long now = clock.millis();
      s = sync.update(st -> st.withMyViews(bumped(st.myViews(), toSend, now)));
      remapped = remapped(s);
      toSend.retainAll(remapped.keySet());
    }
    List<View> views = toSend.stream().map(remapped::get).toList();
    List<String> withdrawn = List.copyOf(withdraw);
    List<View> sent = new ArrayList<>();
    List<String> gone = new ArrayList<>();
    try {
      for (int from = 0; from < Math.max(views.size(), withdrawn.size()); from += MAX_PER_CALL) {
        List<View> chunk = views.subList(Math.min(from, views.size()), Math.min(from + MAX_PER_CALL, views.size()));
        List<String> chunkGone =
            withdrawn.subList(Math.min(from, withdrawn.size()), Math.min(from + MAX_PER_CALL, withdrawn.size()));
        long revision = target.get().publishViews(chunk, chunkGone);
        acknowledge(chunk, chunkGone);
        sent.addAll(chunk);
        gone.addAll(chunkGone);
        log.info("views published count={} withdrawn={} revision={}", chunk.size(), chunkGone.size(), revision);
      }
    } catch (RuntimeException e) {
      Status.Code code = Status.fromThrowable(e).getCode();
      if (code == Status.Code.FAILED_PRECONDITION || code == Status.Code.INVALID_ARGUMENT) {
        return oneByOne(target.get(), views, withdrawn, sent, gone);
      }
      failures.increment();
      Duration delay = backoff.delay(++failedAttempts, HubErrors.retryAfter(e));
      log.info("views not published error=\"{}\" retry_in_ms={}", e.getMessage(), delay.toMillis());
      schedule(delay);
      return new Round(sent, gone, List.of());
    }
    firstRound = false;
    failedAttempts = 0;
    return new Round(sent, gone, List.of());
  }

  /** The refused batch again, one view per call: one subject the hub no longer knows must not block the rest. */
  private Round oneByOne(Hub target, List<View> views, List<String> withdrawn, List<View> sent, List<String> gone) {
    List<String> refused = new ArrayList<>();
    for (View v : views) {
      if (sent.contains(v)) {
        continue;
      }
      try {
        target.publishViews(List.of(v), List.of());
        acknowledge(List.of(v), List.of());
        sent.add(v);
      } catch (RuntimeException e) {
        failures.increment();
        refused.add(v.subjectClusterId());
        log.info("view refused by the hub peer={} error=\"{}\"", v.subjectClusterId(), e.getMessage());
      }
    }
    List<String> remaining = withdrawn.stream().filter(w -> !gone.contains(w)).toList();
    try {
      if (!remaining.isEmpty()) {
        target.publishViews(List.of(), remaining);
        acknowledge(List.of(), remaining);
        gone.addAll(remaining);
      }
    } catch (RuntimeException e) {
      failures.increment();
      log.info("view withdrawals refused by the hub peers={} error=\"{}\"", remaining, e.getMessage());
    }
    firstRound = false;
    return new Round(sent, gone, refused);
  }

  private void acknowledge(List<View> views, List<String> withdrawn) {
    views.forEach(v -> acked.put(v.subjectClusterId(), v));
    withdrawn.forEach(acked::remove);
    publishedViews.increment(views.size());
  }

  private void schedule(Duration delay) {
    try {
      executor.schedule(this::trigger, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed: nothing to retry
    }
  }

  private static Map<String, View> remapped(AgentState s) {
    Map<String, View> out = new TreeMap<>();
    s.myViews().forEach((subject, view) -> {
      if (Ipam.remaps(view) && s.peers().containsKey(subject)) {
        out.put(subject, view);
      }
    });
    return out;
  }

  private static Map<String, View> bumped(Map<String, View> views, Set<String> subjects, long now) {
    Map<String, View> out = new TreeMap<>(views);
    for (String subject : subjects) {
      View v = out.get(subject);
      if (v != null) {
        out.put(subject, new View(v.observerClusterId(), v.subjectClusterId(), v.mappings(),
            Math.max(v.generation() + 1, now)));
      }
    }
    return out;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
