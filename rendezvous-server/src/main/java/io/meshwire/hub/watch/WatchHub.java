package io.meshwire.hub.watch;

import io.meshwire.hub.log.LogEntry;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.log.SnapshotImage;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.hub.watch.WatchSink.Failure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code WatchHub} fans the membership log out to watchers. A subscriber is a cursor into the
 * shared log (the last revision it was sent), not a queue: each drain reads the log from the
 * cursor and writes the entries' shared bytes while the sink is ready, so a slow watcher costs no
 * memory beyond the log, and one that falls below the log's floor gets a snapshot again.
 *
 * <p>Where drains run: a subscription whose transport has a single-threaded executor (the
 * connection's Netty event loop, see {@link #subscribe(String, long, String, WatchSink, Executor)})
 * is drained on it, so its writes never cross threads. Subscriptions sharing an executor form a
 * lane, and a new durable revision wakes each lane with one task that drains all its members in
 * turn: a change costs one task per event loop, not one per watcher, and the transport flushes
 * each connection once for everything that drain wrote. Subscriptions without such an executor
 * (in-process transports, tests) are drained on the shared drain executor, one task each.
 *
 * <p>Thread-safety: all public methods may be called from any thread. Each subscription is
 * drained by at most one task at a time (a work-in-progress counter serializes them), so a sink is
 * never written concurrently. New durable revisions, the sink's readiness, bookmark ticks and
 * closes only schedule a drain.
 */
public final class WatchHub implements AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(WatchHub.class);

  /**
   * Tuning. {@code maxConcurrentSnapshots} bounds subscriptions sending a snapshot at once;
   * {@code maxWaitingSnapshots} more wait in line for one (see {@link SnapshotAdmission}).
   */
  public record Options(Duration bookmarkInterval, int snapshotChunkSize, int maxConcurrentSnapshots,
      int maxWaitingSnapshots, Duration overloadRetryAfter, int drainBatch) {
    public static Options defaults() {
      return new Options(Duration.ofSeconds(30), 500, 64, 16_384, Duration.ofSeconds(2), 256);
    }
  }

  private final Membership log;
  private final WatchCodec codec;
  private final Options options;
  private final Executor drainExecutor;
  private final SnapshotAdmission admission;
  private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();
  /** One lane per single-threaded transport executor (a handful of event loops). */
  private final Map<Executor, Lane> lanes = new ConcurrentHashMap<>();
  /** Subscriptions outside lanes, drained on the shared drain executor. */
  private final Set<Subscription> pooled = ConcurrentHashMap.newKeySet();
  private final ScheduledFuture<?> bookmarkTask;
  private final AtomicLong bookmarkTicks = new AtomicLong();
  private final AtomicInteger nextBookmarkSlice = new AtomicInteger();
  private final Object snapshotLock = new Object();
  // @GuardedBy("snapshotLock")
  private EncodedSnapshot cachedSnapshot;
  private volatile String unavailable;

  private final Timer fanoutLag;
  private final Counter snapshotsServed;
  private final Counter snapshotsRefused;
  private final Counter eventsSent;

  public WatchHub(Membership log, WatchCodec codec, Options options, Executor drainExecutor,
      ScheduledExecutorService scheduler, MeterRegistry meters) {
    this.log = log;
    this.codec = codec;
    this.options = options;
    this.drainExecutor = drainExecutor;
    this.admission = new SnapshotAdmission(options.maxConcurrentSnapshots(), options.maxWaitingSnapshots(),
        options.overloadRetryAfter(), System::nanoTime);
    this.fanoutLag = Timer.builder("meshwire.hub.fanout.lag")
        .description("Time from a change's append to its write to one watcher")
        .publishPercentileHistogram()
        .register(meters);
    this.snapshotsServed = Counter.builder("meshwire.hub.snapshots.served").register(meters);
    this.snapshotsRefused = Counter.builder("meshwire.hub.snapshots.refused")
        .description("Watch streams refused with a back-off hint because too many snapshots were in flight and waiting")
        .register(meters);
    Gauge.builder("meshwire.hub.snapshots.waiting", admission, SnapshotAdmission::waiting)
        .description("Watch streams waiting in line for a snapshot permit").register(meters);
    this.eventsSent = Counter.builder("meshwire.hub.watch.events.sent").register(meters);
    Gauge.builder("meshwire.hub.watchers", subscriptions, Set::size)
        .description("Open Watch streams").register(meters);
    log.onDurable(revision -> wakeAll());
    // Bookmarks are spread over the interval: each tick marks one slice of the watchers, so no
    // tick writes to every stream at once (a burst of N writes that delays changes behind it).
    long tick = Math.max(1, options.bookmarkInterval().toMillis() / BOOKMARK_SLICES);
    this.bookmarkTask = scheduler.scheduleAtFixedRate(this::bookmarkTick, tick, tick, TimeUnit.MILLISECONDS);
  }

  /** Each watcher gets a bookmark once per interval, in one of this many evenly spaced ticks. */
  static final int BOOKMARK_SLICES = 16;

  /**
   * Opens a subscription for {@code clusterId} resuming after {@code sinceRevision}. A snapshot is
   * sent first when the revision is 0, below the log's floor, ahead of the log, or belongs to
   * another mesh UID. The caller must call {@link Subscription#onReady()} when the sink becomes
   * ready and {@link Subscription#cancel()} when the stream ends.
   */
  public Subscription subscribe(String clusterId, long sinceRevision, String meshUid, WatchSink sink) {
    return subscribe(clusterId, sinceRevision, meshUid, sink, null);
  }

  /**
   * As {@link #subscribe(String, long, String, WatchSink)}, drained on {@code transportExecutor}:
   * a single-threaded executor the sink's transport writes from (its connection's event loop),
   * one of a small fixed set. Null: the shared drain executor.
   */
  public Subscription subscribe(String clusterId, long sinceRevision, String meshUid, WatchSink sink,
      Executor transportExecutor) {
    Lane lane = transportExecutor == null ? null : lanes.computeIfAbsent(transportExecutor, Lane::new);
    String refusal = unavailable;
    if (refusal != null) {
      Subscription refused = new Subscription(clusterId, -1, 0, sink, lane);
      refused.pendingFailure = new Failure(Failure.Kind.SHUTTING_DOWN, refusal, options.overloadRetryAfter());
      register(refused);
      return refused;
    }
    long head = log.durableRevision();
    boolean resumable = log.canResumeFrom(sinceRevision)
        && (meshUid.isEmpty() || meshUid.equals(log.meshUid()));
    Subscription s = new Subscription(clusterId, resumable ? sinceRevision : -1, head, sink, lane);
    register(s);
    return s;
  }

  private void register(Subscription s) {
    subscriptions.add(s);
    (s.lane == null ? pooled : s.lane.members).add(s);
    s.schedule();
  }

  /** A new durable revision: one task per lane, one per subscription outside lanes. */
  private void wakeAll() {
    lanes.values().forEach(Lane::wake);
    pooled.forEach(Subscription::schedule);
  }

  /** Ends every stream of {@code clusterId} (revocation); returns how many were open. */
  public int closeCluster(String clusterId, Failure failure) {
    int n = 0;
    for (Subscription s : subscriptions) {
      if (s.clusterId.equals(clusterId)) {
        s.closeWith(failure);
        n++;
      }
    }
    return n;
  }

  /**
   * Stops serving (a hub replica that lost etcd must not serve a stale mesh as current): ends every
   * stream telling agents to go elsewhere, and refuses new ones the same way, until called with
   * null.
   */
  public void setUnavailable(String reason) {
    unavailable = reason;
    if (reason != null) {
      Failure bye = new Failure(Failure.Kind.SHUTTING_DOWN, reason, options.overloadRetryAfter());
      subscriptions.forEach(s -> s.closeWith(bye));
    }
  }

  /** Cluster IDs with at least one open stream. */
  public Set<String> connectedClusters() {
    Set<String> ids = ConcurrentHashMap.newKeySet();
    subscriptions.forEach(s -> ids.add(s.clusterId));
    return ids;
  }

  public int watcherCount() {
    return subscriptions.size();
  }

  /** Watch streams waiting in line for a snapshot permit. */
  int waitingForSnapshot() {
    return admission.waiting();
  }

  /** Asks every watcher to come back after {@code retryAfter} (hub shutdown). */
  @Override
  public void close() {
    bookmarkTask.cancel(false);
    Failure bye = new Failure(Failure.Kind.SHUTTING_DOWN, "hub shutting down", options.overloadRetryAfter());
    subscriptions.forEach(s -> s.closeWith(bye));
  }

  private void bookmarkTick() {
    int slice = (int) (bookmarkTicks.getAndIncrement() % BOOKMARK_SLICES);
    for (Subscription s : subscriptions) {
      if (s.bookmarkSlice == slice) {
        s.bookmarkDue = true;
        s.schedule();
      }
    }
  }

  /**
   * {@code Lane} is the subscriptions drained on one single-threaded executor. {@link #wake} posts
   * at most one task at a time; that task drains every member in place (it already runs on the
   * members' executor, where their drains must run).
   */
  private static final class Lane {
    private final Executor executor;
    private final Set<Subscription> members = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean wakePending = new AtomicBoolean();

    Lane(Executor executor) {
      this.executor = executor;
    }

    void wake() {
      if (!members.isEmpty() && wakePending.compareAndSet(false, true)) {
        try {
          executor.execute(this::drainMembers);
        } catch (RejectedExecutionException e) {
          wakePending.set(false); // the loop is shut down; its members' own schedules clean up
        }
      }
    }

    private void drainMembers() {
      // Cleared first: a revision made durable while this pass runs wakes the lane again.
      wakePending.set(false);
      for (Subscription s : members) {
        s.drainInPlace();
      }
    }
  }

  /**
   * A snapshot's record chunks, encoded once and shared by every watcher that needs them; under
   * peering policies, the chunks of each distinct peer set (a group's members all see the same
   * records), shared by the watchers that have it.
   */
  private record EncodedSnapshot(SnapshotImage image, List<byte[]> clusterChunks,
      Map<List<String>, List<byte[]>> byPeerSet) {
    EncodedSnapshot(SnapshotImage image, List<byte[]> clusterChunks) {
      this(image, clusterChunks, new ConcurrentHashMap<>());
    }
  }

  // At most this many distinct peer sets keep their chunks with a cached snapshot: groups, not one per agent.
  private static final int SHARED_PEER_SETS = 64;

  private EncodedSnapshot snapshot() {
    synchronized (snapshotLock) {
      EncodedSnapshot cached = cachedSnapshot;
      // A cached snapshot stays usable while the log can still bring a watcher forward from it.
      if (cached != null && cached.image.revision() >= log.floorRevision()
          && log.durableRevision() - cached.image.revision() < options.drainBatch() * 4L) {
        return cached;
      }
      SnapshotImage image = log.image();
      List<byte[]> chunks = new ArrayList<>();
      var clusters = image.clusters();
      int size = options.snapshotChunkSize();
      for (int i = 0, index = 0; i < clusters.size(); i += size, index++) {
        chunks.add(codec.clusterChunk(image.revision(), index,
            clusters.subList(i, Math.min(clusters.size(), i + size))));
      }
      cachedSnapshot = new EncodedSnapshot(image, chunks);
      return cachedSnapshot;
    }
  }

  /**
   * The record chunks {@code clusterId} receives: the shared ones in a full mesh, else only the
   * records its peering rules allow (and its own), each with its mode, encoded for it alone.
   */
  private List<byte[]> chunksFor(String clusterId, EncodedSnapshot encoded) {
    Peering peering = encoded.image.peering();
    if (peering.isFullMesh()) {
      return encoded.clusterChunks;
    }
    List<MembershipEvent.Peer> visible = new ArrayList<>();
    List<String> peerSet = new ArrayList<>(); // each visible record's ID and mode: equal sets, equal chunks
    for (ClusterRecord r : encoded.image.clusters()) {
      PeeringMode mode = r.clusterId().equals(clusterId) ? PeeringMode.DIRECT : peering.decide(clusterId, r.clusterId());
      if (mode != PeeringMode.DENY) {
        visible.add(new MembershipEvent.Peer(r, mode));
        peerSet.add(mode == PeeringMode.DIRECT ? r.clusterId() : r.clusterId() + " " + mode.spelling());
      }
    }
    List<byte[]> shared = encoded.byPeerSet.get(peerSet);
    if (shared != null) {
      return shared;
    }
    List<byte[]> out = new ArrayList<>();
    int size = options.snapshotChunkSize();
    for (int i = 0, index = 0; i < visible.size(); i += size, index++) {
      out.add(codec.peerChunk(encoded.image.revision(), index, visible.subList(i, Math.min(visible.size(), i + size))));
    }
    if (encoded.byPeerSet.size() < SHARED_PEER_SETS) {
      encoded.byPeerSet.putIfAbsent(peerSet, out);
    }
    return out;
  }

  /**
   * {@code Subscription} is one Watch stream's cursor. Fields other than the volatile ones are
   * owned by the drain (one at a time).
   */
  public final class Subscription {
    private final String clusterId;
    private final WatchSink sink;
    private final Lane lane; // null: drained on the shared drain executor
    private final int bookmarkSlice = Math.floorMod(nextBookmarkSlice.getAndIncrement(), BOOKMARK_SLICES);
    private final long caughtUpTarget;
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean cancelled;
    private volatile Failure pendingFailure;
    private volatile boolean bookmarkDue;

    // Owned by the drain:
    private boolean helloSent;
    private long cursor; // last revision the watcher has (sent or skipped as not addressed to it)
    private EncodedSnapshot snapshot; // non-null while sending one
    private List<byte[]> chunks; // the snapshot's record chunks as this watcher receives them
    private int nextChunk;
    private boolean holdsPermit;
    private long permitSince; // when the permit was taken (nanoTime)
    private SnapshotAdmission.Ticket waitingFor; // in line for a permit
    private boolean caughtUpSent;

    private Subscription(String clusterId, long resumeFrom, long head, WatchSink sink, Lane lane) {
      this.clusterId = clusterId;
      this.sink = sink;
      this.lane = lane;
      this.caughtUpTarget = head;
      this.cursor = resumeFrom; // -1: needs a snapshot
    }

    public String clusterId() {
      return clusterId;
    }

    /** The transport became ready for more messages. */
    public void onReady() {
      schedule();
    }

    /** The stream ended (client cancelled or completed); frees the cursor. */
    public void cancel() {
      cancelled = true;
      schedule();
    }

    void closeWith(Failure failure) {
      pendingFailure = failure;
      schedule();
    }

    void schedule() {
      if (wip.getAndIncrement() == 0) {
        try {
          (lane == null ? drainExecutor : lane.executor).execute(this::drainLoop);
        } catch (RejectedExecutionException e) {
          // The connection's event loop (or the pool) is shut down: nothing can be written any more.
          logger.debug("watch drain rejected cluster={}", clusterId);
          (lane == null ? pooled : lane.members).remove(this);
          subscriptions.remove(this);
        }
      }
    }

    /** Drains on the calling thread, which must be this subscription's lane executor. */
    private void drainInPlace() {
      if (wip.getAndIncrement() == 0) {
        drainLoop();
      }
    }

    private void drainLoop() {
      int missed = 1;
      do {
        try {
          drain();
        } catch (RuntimeException e) {
          logger.warn("watch drain failed cluster={} error=\"{}\"", clusterId, e.toString());
          cancelled = true;
          finish();
        }
        missed = wip.addAndGet(-missed);
      } while (missed != 0);
    }

    private void drain() {
      if (!subscriptions.contains(this)) {
        return;
      }
      Failure failure = pendingFailure;
      if (failure != null) {
        finish();
        sink.fail(failure);
        return;
      }
      if (cancelled) {
        finish();
        return;
      }
      if (!helloSent) {
        if (!sink.isReady()) {
          return; // even the hello waits for flow control; onReady brings us back
        }
        if (cursor < 0 && !permit("too many snapshots in flight and waiting, retry later")) {
          return; // waiting in line (the grant schedules a drain) or refused
        }
        sink.send(codec.hello(log.meshUid(), log.durableRevision(), log.floorRevision(), cursor < 0,
            options.bookmarkInterval()));
        helloSent = true;
      }
      if (cursor < 0 && !sendSnapshot()) {
        return;
      }
      streamEntries();
    }

    /** Sends snapshot chunks while ready; true once the whole snapshot is out. */
    private boolean sendSnapshot() {
      if (snapshot == null) {
        // Fell below the floor while streaming: needs a snapshot again, under the same bound.
        if (!permit("fell behind the log and too many snapshots in flight and waiting")) {
          return false;
        }
        snapshot = snapshot();
        chunks = chunksFor(clusterId, snapshot);
        nextChunk = 0;
      }
      if (log.durableRevision() < snapshot.image.revision()) {
        return false; // the image includes a change not yet durable; the durable tick reschedules
      }
      while (nextChunk < chunks.size()) {
        if (!sink.isReady()) {
          return false;
        }
        sink.send(chunks.get(nextChunk++));
      }
      if (!sink.isReady()) {
        return false;
      }
      long revision = snapshot.image.revision();
      sink.send(codec.lastChunk(revision, chunks.size(), snapshot.image.viewsFor(clusterId)));
      cursor = revision;
      snapshot = null;
      chunks = null;
      releasePermit(true);
      snapshotsServed.increment();
      return true;
    }

    private void streamEntries() {
      while (sink.isReady()) {
        long visible = log.durableRevision();
        Optional<List<LogEntry>> batch = log.readAfter(cursor, options.drainBatch());
        if (batch.isEmpty()) {
          logger.info("watcher fell below the log floor cluster={} cursor={} floor={}", clusterId, cursor,
              log.floorRevision());
          cursor = -1;
          if (sendSnapshot()) {
            continue;
          }
          return;
        }
        List<LogEntry> entries = batch.get();
        if (entries.isEmpty()) {
          // Nothing up to `visible` is left for us. With etcd, revisions have gaps (other keys
          // move etcd's revision too): the cursor still reaches the head, for caught_up and bookmarks.
          cursor = Math.max(cursor, visible);
          break;
        }
        long now = System.nanoTime();
        for (int i = 0; i < entries.size(); i++) {
          LogEntry e = entries.get(i);
          if (e.isFor(clusterId)) {
            if (!sink.isReady()) {
              return; // cursor stays before e's revision; onReady resumes there
            }
            sink.send(e.encoded());
            eventsSent.increment();
            fanoutLag.record(now - e.appendedNanos(), TimeUnit.NANOSECONDS);
          }
          // One revision may carry several entries (an etcd transaction), each for another
          // watcher: the cursor passes a revision only once all its entries are handled.
          if (i + 1 == entries.size() || entries.get(i + 1).revision() != e.revision()) {
            cursor = e.revision();
          }
        }
      }
      if (!sink.isReady()) {
        return;
      }
      if (!caughtUpSent && cursor >= caughtUpTarget) {
        sink.send(codec.caughtUp(cursor));
        caughtUpSent = true;
        bookmarkDue = false;
      } else if (bookmarkDue && caughtUpSent) {
        bookmarkDue = false;
        sink.send(codec.bookmark(cursor));
      }
    }

    private void finish() {
      (lane == null ? pooled : lane.members).remove(this);
      if (subscriptions.remove(this)) {
        SnapshotAdmission.Ticket t = waitingFor;
        waitingFor = null;
        if (t != null && !admission.withdraw(t)) {
          admission.release(t.grantedAtNanos(), false); // handed over as the stream ended
        }
        releasePermit(false);
      }
    }

    /**
     * True when this subscription holds a snapshot permit. False while it waits in line for one
     * (the grant schedules a drain) and when the line is full: then the stream is refused with a
     * retry hint.
     */
    private boolean permit(String refusal) {
      if (holdsPermit) {
        return true;
      }
      SnapshotAdmission.Ticket t = waitingFor != null ? waitingFor : admission.acquire(this::schedule);
      if (t.granted()) {
        waitingFor = null;
        holdsPermit = true;
        permitSince = t.grantedAtNanos();
        return true;
      }
      if (t.refusedRetryAfter() == null) {
        waitingFor = t;
        return false;
      }
      snapshotsRefused.increment();
      finish();
      sink.fail(new Failure(Failure.Kind.OVERLOADED, refusal, t.refusedRetryAfter()));
      return false;
    }

    private void releasePermit(boolean snapshotSent) {
      if (holdsPermit) {
        holdsPermit = false;
        admission.release(permitSince, snapshotSent);
      }
    }

    @Override
    public String toString() {
      return "Subscription[" + clusterId + " cursor=" + cursor + "]";
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }

    @Override
    public boolean equals(Object o) {
      return this == o;
    }
  }
}
