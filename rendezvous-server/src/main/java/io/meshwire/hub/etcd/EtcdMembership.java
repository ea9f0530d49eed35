package io.meshwire.hub.etcd;

import static io.meshwire.hub.etcd.EtcdLayout.bytes;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.meshwire.hub.log.EventCodec;
import io.meshwire.hub.log.LogEntry;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.log.PeeringAudience;
import io.meshwire.hub.log.SnapshotImage;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.PeeringChanged;
import io.meshwire.hub.membership.MembershipEvent.PeersChanged;
import io.meshwire.hub.membership.MembershipEvent.RemovalReason;
import io.meshwire.hub.membership.MembershipEvent.ViewRemoved;
import io.meshwire.hub.membership.MembershipEvent.ViewUpdated;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.PeerDelta;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringDefault;
import io.meshwire.hub.policy.PeeringRules;
import io.meshwire.netaddr.Backoff;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EtcdMembership} is the membership of a hub replica that shares its state with other
 * replicas through etcd. The mesh revision is etcd's revision, so a resume token means the same on
 * every replica. The rules that need the current state run in etcd transactions (a record is
 * written only if the stored one is still the one whose generation was compared; a view only
 * while its subject is a member; nothing for a revoked cluster), so they hold across replicas.
 *
 * <p>Each replica holds exactly one etcd watch on its prefix and builds, from it, the same
 * in-memory state and log of recent entries that {@link io.meshwire.hub.log.MembershipLog} keeps,
 * which the existing cursor fan-out serves; keys outside {@code members/} go to the registered
 * {@link KeyListener}s (revocations, for instance). A write completes once this replica's watch has
 * applied it, so a caller reads its own writes on the replica it used.
 *
 * <p>Revisions: etcd's revision moves with every write (tokens, audit, revocations, presence), but
 * {@link #durableRevision()} is the revision of the newest membership change, so watchers see no
 * churn from writes that are not theirs. Keys under {@link #UNWATCHED} (presence, last-seen, link
 * reports) are outside the watch's range altogether: other replicas read them when asked.
 *
 * <p>Supervision (jetcd's watch does not come back after some failures, and a lease keep-alive
 * stream can end silently): once per heartbeat interval this replica keeps its lease alive with a
 * single keep-alive call (a lost lease is re-granted and the presence key written again on it;
 * keep-alives do not move etcd's revision), and, when the watch has been silent for a heartbeat
 * interval, asks it for a progress notification; a watch that answers nothing within
 * {@code watchStallAfter} is replaced, resuming after the last applied revision. When etcd
 * compacted past that revision, the state is reloaded and watchers behind get a snapshot. When no etcd member answers for {@code partitionedAfter},
 * the replica stops serving ({@link #unavailableReason()}); members that answer without a leader
 * (no quorum) keep it serving: nobody can change the mesh then, so what it has is current.
 *
 * <p>Thread-safety: public methods may be called from any thread. State, the entry log and the
 * revisions are guarded by {@code lock}; watch responses are applied under it in order (one watch,
 * jetcd delivers its responses one at a time).
 */
public final class EtcdMembership implements Membership {

  private static final Logger log = LoggerFactory.getLogger(EtcdMembership.class);
  private static final String MEMBERS = "members/";
  private static final String CLUSTERS = MEMBERS + "clusters/";
  private static final String VIEWS = MEMBERS + "views/";
  private static final String REMOVED = MEMBERS + "removed/";
  // The operator's peering rules, one key each, so that one change is one etcd revision.
  private static final String PEERING = MEMBERS + "peering/";
  private static final String LABELS = PEERING + "labels/";
  private static final String POLICIES = PEERING + "policies/";
  private static final String DEFAULT_PEERING = PEERING + "default";
  private static final String REVOKED_GUARD = EtcdRevocations.PREFIX + "cluster/";
  /**
   * Keys from here on (under the prefix) are outside the watch: {@code '~'} sorts after every
   * watched sub-prefix. Presence, last-seen and link reports live there.
   */
  public static final String UNWATCHED = "~";
  private static final String REPLICAS = UNWATCHED + "replicas/";
  private static final int MAX_TXN_ATTEMPTS = 8;
  /** Announces per etcd transaction at most (2 comparisons and 2 reads each; etcd allows 128 of each). */
  static final int MAX_UPSERTS_PER_TXN = 32;
  /**
   * How many times an announce's transaction is sent again after etcd gave no answer within the
   * call timeout (a busy etcd often commits it a moment later; the transaction sent again finds
   * out which), before the announce is answered UNAVAILABLE.
   */
  static final int MAX_TIMEOUT_RETRIES = 1;
  /** Announces waiting for a batch at most; more are told to retry. */
  static final int MAX_PENDING_UPSERTS = 1024;
  /**
   * Writes other than announces (views, removals) this replica has in flight to etcd at most; more
   * wait for a slot up to the call timeout, then are told to retry (RESOURCE_EXHAUSTED with a hint)
   * instead of piling onto a slow etcd until every one of them times out. Announces are batched
   * (see upsert).
   */
  static final int MAX_WRITES_IN_FLIGHT = 64;
  /** The retry hint when etcd did not commit in time or has no quorum. */
  static final Duration RETRY_AFTER_UNAVAILABLE = Duration.ofSeconds(2);
  /** The retry hint when this replica's writes in flight are at {@link #MAX_WRITES_IN_FLIGHT}. */
  static final Duration RETRY_AFTER_BUSY = Duration.ofSeconds(1);
  /** How long one diagnosis of a failed write (status of every member) answers for all that fail meanwhile. */
  private static final Duration DIAGNOSIS_REUSE = Duration.ofSeconds(2);
  /**
   * A failed watch is restarted after a jittered, growing delay (0..200 ms, doubling to 0..5 s):
   * with every member down, each attempt fails at once, and a fixed short delay made a restart
   * (and a log line) every 200 ms for as long as the outage lasted.
   */
  static final Duration WATCH_RESTART_BASE = Duration.ofMillis(200);
  static final Duration WATCH_RESTART_CAP = Duration.ofSeconds(5);

  /**
   * Tuning; {@code replicaName} names this replica's presence key; {@code defaultPeering} is this
   * replica's {@code --default-peering}, written to etcd at start when the mesh's differs (the
   * replica started last decides, as with any other setting rolled out to every replica).
   */
  public record Options(int retainedEntries, Duration opTimeout, Duration heartbeatInterval, Duration watchStallAfter,
      Duration partitionedAfter, Duration leaseTtl, String replicaName, PeeringDefault defaultPeering) {
    public Options {
      if (retainedEntries < 16) {
        throw new IllegalArgumentException("retainedEntries must be >= 16");
      }
      java.util.Objects.requireNonNull(defaultPeering, "defaultPeering");
    }

    /** Options with the default peering {@code allow}. */
    public Options(int retainedEntries, Duration opTimeout, Duration heartbeatInterval, Duration watchStallAfter,
        Duration partitionedAfter, Duration leaseTtl, String replicaName) {
      this(retainedEntries, opTimeout, heartbeatInterval, watchStallAfter, partitionedAfter, leaseTtl, replicaName,
          PeeringDefault.ALLOW);
    }

    public static Options defaults(String replicaName) {
      return new Options(100_000, Duration.ofSeconds(3), Duration.ofSeconds(1), Duration.ofSeconds(3),
          Duration.ofSeconds(6), Duration.ofSeconds(10), replicaName);
    }

    /** These options with {@code fallback} as the replica's {@code --default-peering}. */
    public Options withDefaultPeering(PeeringDefault fallback) {
      return new Options(retainedEntries, opTimeout, heartbeatInterval, watchStallAfter, partitionedAfter, leaseTtl,
          replicaName, fallback);
    }
  }

  /** Told about keys under the prefix outside {@code members/}, with keys relative to the prefix. */
  public interface KeyListener {
    /** A stored value and the revision that wrote it. */
    record Stored(byte[] value, long modRevision) {}

    /** Everything under the listener's sub-prefix at {@code revision} (at start and after a reload). */
    void loaded(Map<String, Stored> values, long revision);

    /** One key changed; {@code value} is null for a deletion. */
    void changed(String key, byte[] value, long revision);
  }

  private final Client client;
  private final KV kv;
  private final String prefix;
  private final List<URI> endpoints;
  private final EventCodec codec;
  private final InstantSource clock;
  private final Options options;
  private final Executor notifyExecutor;
  private final ScheduledExecutorService scheduler;
  private final String meshUid;
  private final Map<String, KeyListener> listeners;
  private final List<LongConsumer> durableListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> servingListeners = new CopyOnWriteArrayList<>();
  private final ConcurrentSkipListMap<Long, List<CompletableFuture<Void>>> appliedWaiters =
      new ConcurrentSkipListMap<>();

  // Announces waiting for the writer (see upsert), in order; @GuardedBy itself.
  private final java.util.ArrayDeque<PendingUpsert> pendingUpserts = new java.util.ArrayDeque<>();
  // @GuardedBy("pendingUpserts"): the writer runs or is about to.
  private boolean upsertWriterScheduled;
  private final java.util.concurrent.ExecutorService upsertWriter;
  private final java.util.concurrent.Semaphore writeSlots = new java.util.concurrent.Semaphore(MAX_WRITES_IN_FLIGHT);
  // The last diagnosis of a failed write and when it was made (nanoTime): one member status round per DIAGNOSIS_REUSE.
  private volatile String lastDiagnosis;
  private volatile long lastDiagnosisNanos;
  private final java.util.concurrent.atomic.LongAdder writesRefusedBusy = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder announceTimeouts = new java.util.concurrent.atomic.LongAdder();

  // Stage timers (see bindMetrics); null until bound.
  private volatile io.micrometer.core.instrument.Timer commitTimer;
  private volatile io.micrometer.core.instrument.Timer watchDelayTimer;

  private final Object lock = new Object();
  // @GuardedBy("lock")
  private final Map<String, ClusterRecord> clusters = new TreeMap<>();
  // @GuardedBy("lock")
  private final Map<PeerView.Key, PeerView> views = new HashMap<>();
  // @GuardedBy("lock"): labels, policies and default as of `applied`
  private Peering peering = new Peering(PeeringRules.EMPTY, PeeringDefault.ALLOW);
  // @GuardedBy("lock"): entries after floor, grouped by revision
  private final TreeMap<Long, List<LogEntry>> recent = new TreeMap<>();
  // @GuardedBy("lock")
  private int recentCount;
  // @GuardedBy("lock")
  private long floor;
  // @GuardedBy("lock"): how many times the watch was (re)created, to ignore a replaced one's calls
  private long watchGeneration;
  // @GuardedBy("lock")
  private Watch.Watcher watcher;
  // @GuardedBy("lock")
  private boolean closed;

  // Every event up to here was applied; writes wait for it (afterApplied).
  private volatile long applied;
  // The newest revision that changed the membership: what watchers see as the head.
  private volatile long memberRevision;
  // Listener keys were loaded as of this revision; the watch's replay of older ones is skipped.
  private volatile long listenersLoadedAt;
  // Ready once `applied` reaches it: the newest watched key when the state was loaded, the
  // replica reconnected to etcd or its watch was replaced.
  private volatile long catchUpTarget;
  // A stalled watch is being replaced (from the stall until the new one is started).
  private volatile boolean watchReplacing;
  private volatile long seenEtcdRevision;
  private volatile long leaseId;
  private volatile long lastEtcdContactNanos = System.nanoTime();
  private volatile long lastWatchResponseNanos = System.nanoTime();
  // When the pending progress request was sent (0: none pending).
  private volatile long progressRequestedNanos;
  private volatile String unavailable;
  private volatile long watchRestarts;
  private volatile long leaseLosses;
  private volatile long watchStalls;
  // @GuardedBy("lock"): restarts since the watch last delivered anything (0: healthy), and since when
  private int watchFailures;
  // @GuardedBy("lock")
  private long watchFailingSinceNanos;
  private final Backoff watchBackoff = new Backoff(WATCH_RESTART_BASE, WATCH_RESTART_CAP, RandomGenerator.getDefault());
  private final List<LongConsumer> leaseListeners = new CopyOnWriteArrayList<>();
  private final List<AutoCloseable> closeFirst = new CopyOnWriteArrayList<>();
  private final ScheduledFuture<?> heartbeatTask;
  private final ScheduledFuture<?> watchTask;

  private EtcdMembership(Client client, String prefix, List<URI> endpoints, String meshUid, EventCodec codec,
      InstantSource clock, Options options, Executor notifyExecutor, Map<String, KeyListener> listeners) {
    this.client = client;
    this.kv = client.getKVClient();
    this.prefix = prefix;
    this.endpoints = endpoints;
    this.meshUid = meshUid;
    this.codec = codec;
    this.clock = clock;
    this.options = options;
    this.notifyExecutor = notifyExecutor;
    // Its own threads: a keep-alive blocks on etcd for up to opTimeout (a hung member) and must
    // delay neither others' timers nor the watch check, which runs beside it.
    this.scheduler = java.util.concurrent.Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "hub-etcd-supervisor");
      t.setDaemon(true);
      return t;
    });
    this.listeners = Map.copyOf(listeners);
    this.upsertWriter = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "hub-etcd-writer");
      t.setDaemon(true);
      return t;
    });
    long revision = load();
    startWatch(revision + 1);
    long tick = options.heartbeatInterval().toMillis();
    this.heartbeatTask = scheduler.scheduleWithFixedDelay(this::heartbeat, 0, tick, TimeUnit.MILLISECONDS);
    this.watchTask = scheduler.scheduleWithFixedDelay(() -> superviseWatch(System.nanoTime()), tick, tick / 4,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Checks (or on an empty prefix creates) the layout, loads the state and starts the watch.
   *
   * @param listeners by sub-prefix relative to {@code prefix} (for example {@code "revocations/"})
   * @throws EtcdStartException naming the problem; nothing was written
   */
  public static EtcdMembership open(Client client, EtcdSettings settings, String mesh, String caSha256,
      EventCodec codec, InstantSource clock, Options options, Executor notifyExecutor,
      Map<String, KeyListener> listeners) {
    String uid;
    try {
      uid = EtcdLayout.openOrCreate(client.getKVClient(), settings.prefix(), new EtcdLayout.Identity(mesh, caSha256),
          options.opTimeout());
    } catch (EtcdCalls.EtcdCallException e) {
      throw new EtcdStartException("cannot read the hub's layout in etcd: " + e.getMessage(), e);
    }
    EtcdMembership membership = new EtcdMembership(client, settings.prefix(), settings.endpoints(), uid, codec, clock,
        options, notifyExecutor, listeners);
    try {
      membership.adoptDefaultPeering(options.defaultPeering());
    } catch (EtcdCalls.EtcdCallException | IllegalArgumentException e) {
      membership.close();
      throw new EtcdStartException("cannot set the mesh's default peering in etcd (" + settings.prefix()
          + DEFAULT_PEERING + "): " + e.getMessage(), e);
    }
    return membership;
  }

  // ---- reads --------------------------------------------------------------------------------

  @Override
  public String meshUid() {
    return meshUid;
  }

  @Override
  public long durableRevision() {
    return memberRevision;
  }

  @Override
  public long floorRevision() {
    synchronized (lock) {
      return floor;
    }
  }

  /**
   * A watcher coming from another replica may hold a revision this replica has not applied yet;
   * it resumes (and waits for the watch to get there) as long as etcd has reached that revision.
   */
  @Override
  public boolean canResumeFrom(long sinceRevision) {
    return sinceRevision > 0 && sinceRevision >= floorRevision()
        && sinceRevision <= Math.max(applied, seenEtcdRevision);
  }

  @Override
  public void onDurable(LongConsumer listener) {
    durableListeners.add(listener);
  }

  /** Registers {@code listener}, run whenever {@link #unavailableReason()} changes. */
  public void onServingChanged(Runnable listener) {
    servingListeners.add(listener);
  }

  /** Why this replica must not serve the mesh as current (partitioned from etcd), or empty. */
  public Optional<String> unavailableReason() {
    return Optional.ofNullable(unavailable);
  }

  /**
   * Why this replica is not ready to take agents: partitioned from etcd, or its watch has not yet
   * replayed etcd's history up to the newest key present when it (re)loaded; empty when ready.
   */
  public Optional<String> notReadyReason() {
    String why = unavailable;
    if (why != null) {
      return Optional.of(why);
    }
    long done = applied;
    if (watchReplacing) {
      return Optional.of("catching up with etcd: replacing a watch that answered no progress request within "
          + options.watchStallAfter().toMillis() + " ms (applied revision " + done + ")");
    }
    long requested = progressRequestedNanos;
    long unanswered = requested == 0 ? 0 : System.nanoTime() - requested;
    if (unanswered > options.watchStallAfter().toNanos() / 2) {
      // Changes may be waiting behind a hung member: this replica cannot tell that it is current.
      return Optional.of("catching up with etcd: its watch has answered no progress request for "
          + TimeUnit.NANOSECONDS.toMillis(unanswered) + " ms (applied revision " + done + ")");
    }
    long target = catchUpTarget;
    return done >= target ? Optional.empty()
        : Optional.of("catching up with etcd: applied revision " + done + " of " + target);
  }

  /** How many times the etcd watch was replaced (stalls, errors, compaction). */
  public long watchRestarts() {
    return watchRestarts;
  }

  @Override
  public Optional<ClusterRecord> cluster(String clusterId) {
    synchronized (lock) {
      return Optional.ofNullable(clusters.get(clusterId));
    }
  }

  @Override
  public List<ClusterRecord> clusters() {
    synchronized (lock) {
      return List.copyOf(clusters.values());
    }
  }

  @Override
  public SnapshotImage image() {
    synchronized (lock) {
      return SnapshotImage.of(memberRevision, clusters.values(), views.values()).withPeering(peering);
    }
  }

  @Override
  public Optional<List<LogEntry>> readAfter(long afterRevision, int max) {
    synchronized (lock) {
      if (afterRevision < floor) {
        return Optional.empty();
      }
      List<LogEntry> out = new ArrayList<>();
      for (List<LogEntry> group : recent.tailMap(afterRevision, false).values()) {
        if (out.size() >= max) {
          break;
        }
        out.addAll(group);
      }
      return Optional.of(out);
    }
  }

  // ---- writes -------------------------------------------------------------------------------

  /**
   * Announces are written in batches: one transaction carries up to {@link #MAX_UPSERTS_PER_TXN}
   * of them (at most one per cluster), with one writer thread per replica, so a join of a thousand
   * agents is a few dozen etcd transactions instead of a thousand (each a Raft entry, a WAL fsync
   * on every member and a round trip), and the batches grow by themselves while etcd is slow.
   * Each record is compared by modification revision against the replica's own state (kept by its
   * watch); when any comparison fails, the transaction's Else returns etcd's records, the stale or
   * revoked ones are refused and the rest go into the next batch. Announces wait at most the call
   * timeout for a batch, and at most {@link #MAX_PENDING_UPSERTS} wait: beyond either they are
   * refused with a retry hint (RESOURCE_EXHAUSTED: never written, safe to send again as it was).
   */
  @Override
  public CompletableFuture<Long> upsert(ClusterRecord record) throws Rejection {
    String id = record.clusterId();
    // Against this replica's view, like the file store: not a transaction across replicas (two
    // clusters racing with one key on two replicas could both pass), but a copied key is refused.
    ClusterRecord known;
    synchronized (lock) {
      for (ClusterRecord other : clusters.values()) {
        if (!other.clusterId().equals(id) && other.wireguardPublicKey().equals(record.wireguardPublicKey())) {
          throw new Rejection(Rejection.Kind.ALREADY_EXISTS, "record.wireguard_public_key: "
              + record.wireguardPublicKey() + " is already held by cluster \"" + other.clusterId() + "\"");
        }
      }
      known = clusters.get(id);
    }
    PendingUpsert pending = new PendingUpsert(record, ByteSequence.from(codec.encodeEvent(0,
        new ClusterUpserted(record.accepted(clock.instant(), 0)))), System.nanoTime());
    pending.expectedRevision = known == null ? 0 : known.revision();
    if (known != null && record.generation() <= known.generation()) {
      // Stale against this replica's state: checked against etcd, not refused on a guess (this
      // replica may not have seen the cluster removed yet).
      try {
        GetResponse current = call(kv.get(key(CLUSTERS + id)), "reading cluster " + id);
        long stored = current.getKvs().isEmpty() ? 0 : recordOf(current.getKvs().get(0)).generation();
        if (record.generation() <= stored) {
          throw new Rejection(Rejection.Kind.FAILED_PRECONDITION, "record.generation: " + record.generation()
              + " is not greater than the stored generation " + stored);
        }
        pending.expectedRevision = current.getKvs().isEmpty() ? 0 : current.getKvs().get(0).getModRevision();
      } catch (EtcdCalls.EtcdCallException e) {
        return CompletableFuture.failedFuture(unavailable(e));
      }
    }
    synchronized (pendingUpserts) {
      if (pendingUpserts.size() >= MAX_PENDING_UPSERTS) {
        writesRefusedBusy.increment();
        return CompletableFuture.failedFuture(busy("cluster " + id, MAX_PENDING_UPSERTS + " announces waiting"));
      }
      pendingUpserts.add(pending);
      if (!upsertWriterScheduled) {
        try {
          upsertWriter.execute(this::writeUpserts);
          upsertWriterScheduled = true;
        } catch (java.util.concurrent.RejectedExecutionException closing) {
          pendingUpserts.remove(pending);
          return CompletableFuture.failedFuture(new EtcdUnavailableException("hub replica is shutting down", null));
        }
      }
    }
    return pending.done;
  }

  /**
   * An announce waiting for its batch; {@code expectedRevision} (0: no key), {@code attempts},
   * {@code timeouts} and {@code sent} belong to the writer. {@code value} carries the acceptance
   * time, so etcd holding exactly these bytes means this very announce was written.
   */
  private static final class PendingUpsert {
    final ClusterRecord record;
    final ByteSequence value;
    final long queuedNanos;
    final CompletableFuture<Long> done = new CompletableFuture<>();
    long expectedRevision;
    int attempts;
    int timeouts;
    boolean sent;

    PendingUpsert(ClusterRecord record, ByteSequence value, long queuedNanos) {
      this.record = record;
      this.value = value;
      this.queuedNanos = queuedNanos;
    }
  }

  private EtcdUnavailableException busy(String what, String why) {
    return new EtcdUnavailableException(what + ": hub replica " + options.replicaName() + " has " + why
        + " for etcd; try again", null, RETRY_AFTER_BUSY, true);
  }

  /**
   * The writer thread: batches until nothing waits. A batch that fails unexpectedly (a stored
   * record that does not decode, jetcd throwing while the replica closes) fails its announces with
   * UNAVAILABLE and the writer goes on: one bad batch must not stop every later announce.
   */
  private void writeUpserts() {
    try {
      writeUpsertBatches();
    } catch (Error e) { // the writer ends without clearing its flag: let the next announce start one
      synchronized (pendingUpserts) {
        upsertWriterScheduled = false;
      }
      throw e;
    }
  }

  private void writeUpsertBatches() {
    while (true) {
      List<PendingUpsert> batch = new ArrayList<>();
      synchronized (pendingUpserts) {
        Set<String> inBatch = new HashSet<>();
        var it = pendingUpserts.iterator();
        while (it.hasNext() && batch.size() < MAX_UPSERTS_PER_TXN) {
          PendingUpsert p = it.next();
          if (inBatch.add(p.record.clusterId())) { // a second announce of one cluster waits for the next batch
            it.remove();
            batch.add(p);
          }
        }
        if (batch.isEmpty()) {
          upsertWriterScheduled = false;
          return;
        }
      }
      List<PendingUpsert> again;
      try {
        again = writeBatch(batch);
      } catch (RuntimeException e) {
        log.warn("etcd announce batch failed clusters={} error=\"{}\"", batch.size(), e.toString());
        EtcdUnavailableException failure = new EtcdUnavailableException("hub replica " + options.replicaName()
            + " could not write the announce: " + e.getMessage(), e);
        batch.forEach(p -> p.done.completeExceptionally(failure));
        again = List.of();
      }
      if (!again.isEmpty()) {
        synchronized (pendingUpserts) {
          for (int i = again.size() - 1; i >= 0; i--) {
            pendingUpserts.addFirst(again.get(i));
          }
        }
      }
    }
  }

  /** Writes one batch; completes what it decides and returns what goes into the next batch. */
  private List<PendingUpsert> writeBatch(List<PendingUpsert> batch) {
    List<PendingUpsert> live = new ArrayList<>();
    long now = System.nanoTime();
    for (PendingUpsert p : batch) {
      if (closed()) {
        p.done.completeExceptionally(new EtcdUnavailableException("hub replica is shutting down", null));
      } else if (!p.sent && now - p.queuedNanos > options.opTimeout().toNanos()) {
        writesRefusedBusy.increment();
        p.done.completeExceptionally(busy("cluster " + p.record.clusterId(), "announces waiting longer than "
            + options.opTimeout().toMillis() + " ms"));
      } else {
        live.add(p);
      }
    }
    if (live.isEmpty()) {
      return List.of();
    }
    List<Cmp> guards = new ArrayList<>();
    List<Op> puts = new ArrayList<>();
    List<Op> reads = new ArrayList<>();
    for (PendingUpsert p : live) {
      ByteSequence key = key(CLUSTERS + p.record.clusterId());
      ByteSequence revokedGuard = key(REVOKED_GUARD + p.record.clusterId());
      guards.add(p.expectedRevision == 0 ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0))
          : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(p.expectedRevision)));
      guards.add(new Cmp(revokedGuard, Cmp.Op.EQUAL, CmpTarget.version(0)));
      puts.add(Op.put(key, p.value, PutOption.DEFAULT));
      reads.add(Op.get(key, GetOption.DEFAULT));
      reads.add(Op.get(revokedGuard, GetOption.builder().withCountOnly(true).build()));
      p.sent = true;
    }
    TxnResponse txn;
    long t0 = System.nanoTime();
    try {
      txn = call(kv.txn().If(guards.toArray(Cmp[]::new)).Then(puts.toArray(Op[]::new))
          .Else(reads.toArray(Op[]::new)).commit(), "writing " + live.size() + " cluster record(s)");
    } catch (EtcdCalls.EtcdCallException e) {
      List<PendingUpsert> again = new ArrayList<>();
      List<PendingUpsert> failed = new ArrayList<>();
      if (e.timedOut()) {
        announceTimeouts.add(live.size());
        // No answer is not a no: etcd may commit it yet. The same transaction again tells which:
        // its comparisons hold only if the first one did not commit, else Else returns our record.
        for (PendingUpsert p : live) {
          (p.timeouts++ < MAX_TIMEOUT_RETRIES ? again : failed).add(p);
        }
      } else {
        failed.addAll(live);
      }
      if (!failed.isEmpty()) {
        EtcdUnavailableException failure = unavailable(e);
        failed.forEach(p -> p.done.completeExceptionally(failure));
      }
      return again;
    }
    io.micrometer.core.instrument.Timer commit = commitTimer;
    if (commit != null) {
      commit.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
    }
    if (txn.isSucceeded()) {
      CompletableFuture<Long> applied = afterApplied(txn.getHeader().getRevision());
      live.forEach(p -> applied.whenComplete((revision, failure) -> p.done.complete(revision)));
      return List.of();
    }
    // Some comparison failed: etcd's records decide, announce by announce.
    List<GetResponse> now2 = txn.getGetResponses();
    List<PendingUpsert> again = new ArrayList<>();
    for (int i = 0; i < live.size(); i++) {
      PendingUpsert p = live.get(i);
      String id = p.record.clusterId();
      GetResponse current = now2.get(2 * i);
      if (!current.getKvs().isEmpty() && current.getKvs().get(0).getValue().equals(p.value)) {
        // Written by an earlier attempt of this announce that etcd did not answer in time.
        long written = current.getKvs().get(0).getModRevision();
        afterApplied(written).whenComplete((revision, failure) -> p.done.complete(revision));
        continue;
      }
      if (now2.get(2 * i + 1).getCount() > 0) {
        p.done.completeExceptionally(new Rejection(Rejection.Kind.PERMISSION_DENIED, "cluster \"" + id
            + "\" is revoked"));
        continue;
      }
      long storedRevision = current.getKvs().isEmpty() ? 0 : current.getKvs().get(0).getModRevision();
      long stored = current.getKvs().isEmpty() ? 0 : recordOf(current.getKvs().get(0)).generation();
      if (p.record.generation() <= stored) {
        p.done.completeExceptionally(new Rejection(Rejection.Kind.FAILED_PRECONDITION, "record.generation: "
            + p.record.generation() + " is not greater than the stored generation " + stored));
      } else if (storedRevision != p.expectedRevision && ++p.attempts >= MAX_TXN_ATTEMPTS) {
        p.done.completeExceptionally(new EtcdUnavailableException("cluster " + id
            + ": too much contention in etcd, retry", null));
      } else {
        // Another replica wrote it since this one applied it (compare with etcd's record next),
        // or its comparison held and another announce of the batch failed.
        p.expectedRevision = storedRevision;
        again.add(p);
      }
    }
    return again;
  }

  private boolean closed() {
    synchronized (lock) {
      return closed;
    }
  }

  @Override
  public CompletableFuture<Long> publishViews(String observer, List<PeerView> updated, Collection<String> withdrawn)
      throws Rejection {
    try (WriteSlot slot = writeSlot("views of " + observer)) {
      for (int attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
        List<Cmp> guards = new ArrayList<>();
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < updated.size(); i++) {
          PeerView view = updated.get(i);
          String field = "views[" + i + "]";
          ByteSequence subjectKey = key(CLUSTERS + view.subjectClusterId());
          GetResponse subject = call(kv.get(subjectKey, GetOption.builder().withKeysOnly(true).build()),
              "reading cluster " + view.subjectClusterId());
          if (subject.getKvs().isEmpty()) {
            throw new Rejection(Rejection.Kind.FAILED_PRECONDITION,
                field + ".subject_cluster_id: \"" + view.subjectClusterId() + "\" is not a member of the mesh");
          }
          guards.add(new Cmp(subjectKey, Cmp.Op.EQUAL, CmpTarget.modRevision(subject.getKvs().get(0).getModRevision())));
          ByteSequence viewKey = key(viewKey(view.key()));
          GetResponse current = call(kv.get(viewKey), "reading view " + view.key());
          if (current.getKvs().isEmpty()) {
            guards.add(new Cmp(viewKey, Cmp.Op.EQUAL, CmpTarget.version(0)));
          } else {
            KeyValue kvCurrent = current.getKvs().get(0);
            long generation = viewOf(kvCurrent).generation();
            if (view.generation() <= generation) {
              throw new Rejection(Rejection.Kind.FAILED_PRECONDITION, field + ".generation: " + view.generation()
                  + " is not greater than the stored generation " + generation);
            }
            guards.add(new Cmp(viewKey, Cmp.Op.EQUAL, CmpTarget.modRevision(kvCurrent.getModRevision())));
          }
          ops.add(Op.put(viewKey, ByteSequence.from(codec.encodeEvent(0, new ViewUpdated(view))), PutOption.DEFAULT));
        }
        for (String subject : withdrawn) {
          ops.add(Op.delete(key(viewKey(new PeerView.Key(observer, subject))), DeleteOption.DEFAULT));
        }
        if (ops.isEmpty()) {
          return CompletableFuture.completedFuture(memberRevision);
        }
        TxnResponse txn = call(kv.txn().If(guards.toArray(Cmp[]::new)).Then(ops.toArray(Op[]::new)).commit(),
            "writing views of " + observer);
        if (txn.isSucceeded()) {
          boolean changed = !updated.isEmpty()
              || txn.getDeleteResponses().stream().anyMatch(d -> d.getDeleted() > 0);
          return changed ? afterApplied(txn.getHeader().getRevision())
              : CompletableFuture.completedFuture(memberRevision);
        }
      }
      return CompletableFuture.failedFuture(new EtcdUnavailableException(
          "views of " + observer + ": too much contention in etcd, retry", null));
    } catch (EtcdCalls.EtcdCallException e) {
      return CompletableFuture.failedFuture(unavailable(e));
    } catch (EtcdUnavailableException busy) {
      return CompletableFuture.failedFuture(busy);
    }
  }

  @Override
  public CompletableFuture<Long> remove(String clusterId, RemovalReason reason) throws Rejection {
    ByteSequence key = key(CLUSTERS + clusterId);
    try (WriteSlot slot = writeSlot("removing cluster " + clusterId)) {
      for (int attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
        GetResponse current = call(kv.get(key, GetOption.builder().withKeysOnly(true).build()),
            "reading cluster " + clusterId);
        if (current.getKvs().isEmpty()) {
          throw new Rejection(Rejection.Kind.NOT_FOUND, "cluster_id: \"" + clusterId + "\" has no record");
        }
        List<Op> ops = new ArrayList<>();
        // The reason first: the watch sees it in the same revision as the deletion.
        ops.add(Op.put(key(REMOVED + clusterId), bytes(reason.name()), PutOption.DEFAULT));
        ops.add(Op.delete(key, DeleteOption.DEFAULT));
        ops.add(Op.delete(key(VIEWS + clusterId + "/"), DeleteOption.builder().isPrefix(true).build()));
        GetResponse allViews = call(kv.get(key(VIEWS), GetOption.builder().isPrefix(true).withKeysOnly(true).build()),
            "reading views");
        for (KeyValue v : allViews.getKvs()) {
          String rel = relative(v.getKey());
          if (rel.endsWith("/" + clusterId) && !rel.startsWith(VIEWS + clusterId + "/")) {
            ops.add(Op.delete(v.getKey(), DeleteOption.DEFAULT));
          }
        }
        TxnResponse txn = call(kv.txn()
            .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(current.getKvs().get(0).getModRevision())))
            .Then(ops.toArray(Op[]::new))
            .commit(), "removing cluster " + clusterId);
        if (txn.isSucceeded()) {
          return afterApplied(txn.getHeader().getRevision());
        }
      }
      return CompletableFuture.failedFuture(new EtcdUnavailableException(
          "cluster " + clusterId + ": too much contention in etcd, retry", null));
    } catch (EtcdCalls.EtcdCallException e) {
      return CompletableFuture.failedFuture(unavailable(e));
    } catch (EtcdUnavailableException busy) {
      return CompletableFuture.failedFuture(busy);
    }
  }

  @Override
  public Peering peering() {
    synchronized (lock) {
      return peering;
    }
  }

  /**
   * Writes the change as one key (a cluster's labels, a policy) in one etcd transaction, so it is
   * one revision; every replica's watch derives the same per-agent deltas from it. The checks
   * (a policy to delete exists, the policy limit, a change that would isolate everyone) run against
   * this replica's state, as the file store's do; a deletion also requires the key in etcd.
   */
  @Override
  public CompletableFuture<PeeringResult> changePeering(PeeringChange change, boolean force) throws Rejection {
    Peering before;
    List<String> members;
    synchronized (lock) {
      before = peering;
      members = List.copyOf(clusters.keySet());
    }
    Peering after = PeeringAudience.checkedChange(before, change, members, force);
    if (after.rules().equals(before.rules())) {
      return CompletableFuture.completedFuture(new PeeringResult(memberRevision, 0, true));
    }
    ByteSequence value = ByteSequence.from(codec.encodeEvent(0, new PeeringChanged(change)));
    var txn = kv.txn();
    String what;
    switch (change) {
      case PeeringChange.SetLabels s -> {
        ByteSequence k = key(LABELS + s.clusterId());
        txn.Then(s.labels().isEmpty() ? Op.delete(k, DeleteOption.DEFAULT) : Op.put(k, value, PutOption.DEFAULT));
        what = "writing labels of " + s.clusterId();
      }
      case PeeringChange.ApplyPolicy a -> {
        txn.Then(Op.put(key(POLICIES + a.policy().name()), value, PutOption.DEFAULT));
        what = "writing policy " + a.policy().name();
      }
      case PeeringChange.DeletePolicy d -> {
        ByteSequence k = key(POLICIES + d.name());
        txn.If(new Cmp(k, Cmp.Op.GREATER, CmpTarget.version(0))).Then(Op.delete(k, DeleteOption.DEFAULT));
        what = "deleting policy " + d.name();
      }
    }
    TxnResponse done;
    try {
      done = call(txn.commit(), what);
    } catch (EtcdCalls.EtcdCallException e) {
      return CompletableFuture.failedFuture(unavailable(e));
    }
    if (!done.isSucceeded()) {
      // Deleted through another replica since this one applied it.
      throw PeeringAudience.policyNotFound(((PeeringChange.DeletePolicy) change).name());
    }
    // Completed off jetcd's event loop: callers go on with blocking etcd calls (the token that
    // carries the labels), which would wait for that very loop.
    return afterApplied(done.getHeader().getRevision())
        .thenApplyAsync(revision -> new PeeringResult(revision, agentsChangedAt(revision), false), notifyExecutor);
  }

  /** How many agents were sent a change of their peers at {@code revision}. */
  private int agentsChangedAt(long revision) {
    synchronized (lock) {
      List<LogEntry> group = recent.get(revision);
      return group == null ? 0 : (int) group.stream().filter(e -> e.event() instanceof PeersChanged).count();
    }
  }

  /**
   * Makes {@code fallback} the mesh's default peering when etcd holds another (no key: allow), as
   * one revision that sends each affected agent its delta. Called once at start.
   */
  private void adoptDefaultPeering(PeeringDefault fallback) {
    ByteSequence k = key(DEFAULT_PEERING);
    for (int attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
      GetResponse current = call(kv.get(k), "reading " + prefix + DEFAULT_PEERING);
      PeeringDefault stored = current.getKvs().isEmpty() ? PeeringDefault.ALLOW
          : PeeringDefault.parse(current.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
      if (stored == fallback) {
        return;
      }
      Cmp unchanged = current.getKvs().isEmpty() ? new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0))
          : new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(current.getKvs().get(0).getModRevision()));
      TxnResponse txn = call(kv.txn().If(unchanged)
          .Then(Op.put(k, bytes(fallback.name().toLowerCase(java.util.Locale.ROOT)), PutOption.DEFAULT)).commit(),
          "writing " + prefix + DEFAULT_PEERING);
      if (txn.isSucceeded()) {
        log.warn("default peering of the mesh changed by this replica's setting replica={} from={} to={} revision={}",
            options.replicaName(), stored.name().toLowerCase(java.util.Locale.ROOT),
            fallback.name().toLowerCase(java.util.Locale.ROOT), txn.getHeader().getRevision());
        afterApplied(txn.getHeader().getRevision()).join();
        return;
      }
    }
    throw new EtcdCalls.EtcdCallException("default peering: too much contention in etcd", null);
  }

  /** {@code before} after one key under {@code peering/} was written ({@code put}) or deleted. */
  private Peering peeringAfter(Peering before, String rel, KeyValue kv0, boolean put) {
    if (rel.equals(DEFAULT_PEERING)) {
      try {
        PeeringDefault fallback = put ? PeeringDefault.parse(kv0.getValue().toString(StandardCharsets.UTF_8))
            : PeeringDefault.ALLOW;
        return new Peering(before.rules(), fallback);
      } catch (IllegalArgumentException e) {
        log.warn("ignoring an unreadable default peering in etcd key={}{} error=\"{}\"", prefix, rel, e.getMessage());
        return before;
      }
    }
    PeeringChange change;
    if (rel.startsWith(LABELS) && !put) {
      change = new PeeringChange.SetLabels(rel.substring(LABELS.length()), Map.of());
    } else if (rel.startsWith(POLICIES) && !put) {
      change = new PeeringChange.DeletePolicy(rel.substring(POLICIES.length()));
    } else if (put && codec.decodeEvent(kv0.getValue().getBytes()) instanceof PeeringChanged c) {
      change = c.change();
    } else {
      log.warn("ignoring an unknown key under {}{} key={}", prefix, PEERING, rel);
      return before;
    }
    return before.with(change);
  }

  /** The etcd client, for the other stores of this replica (tokens, revocations, audit). */
  public Client client() {
    return client;
  }

  /** The key prefix (ends with '/'). */
  public String prefix() {
    return prefix;
  }

  /** A bounded call to etcd; tracks the newest revision etcd has reported. */
  <T extends io.etcd.jetcd.Response> T call(CompletableFuture<T> future, String what) {
    T response = EtcdCalls.await(future, options.opTimeout(), what);
    lastEtcdContactNanos = System.nanoTime();
    noteEtcdRevision(response.getHeader().getRevision());
    return response;
  }

  /**
   * What a caller gets when etcd did not commit: UNAVAILABLE, saying whether quorum is lost, with
   * a retry hint. The members' status is asked once per {@link #DIAGNOSIS_REUSE} (and logged then):
   * a burst of failed writes must not add a status round each to an etcd that is struggling.
   */
  EtcdUnavailableException unavailable(EtcdCalls.EtcdCallException e) {
    long now = System.nanoTime();
    String why = lastDiagnosis;
    if (why == null || now - lastDiagnosisNanos > DIAGNOSIS_REUSE.toNanos()) {
      why = EtcdClients.diagnose(client, endpoints, Duration.ofMillis(500));
      lastDiagnosis = why;
      lastDiagnosisNanos = System.nanoTime();
      log.warn("etcd write failed reason=\"{}\" call=\"{}\"", why, e.getMessage());
    }
    return new EtcdUnavailableException(why + ": " + e.getMessage(), e, RETRY_AFTER_UNAVAILABLE, false);
  }

  /** A slot for one write (see {@link #MAX_WRITES_IN_FLIGHT}); released by closing it. */
  private WriteSlot writeSlot(String what) {
    try {
      if (writeSlots.tryAcquire(options.opTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        return writeSlots::release;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writesRefusedBusy.increment();
    throw busy(what, MAX_WRITES_IN_FLIGHT + " writes in flight");
  }

  /**
   * Announce transactions etcd did not answer within the call timeout, counted per announce in
   * them (each was sent again once: see {@link #MAX_TIMEOUT_RETRIES}).
   */
  public long announceTimeouts() {
    return announceTimeouts.sum();
  }

  /** Writes refused because {@link #MAX_WRITES_IN_FLIGHT} were in flight (each told to retry later). */
  public long writesRefusedBusy() {
    return writesRefusedBusy.sum();
  }

  /** Writes to etcd this replica has in flight now. */
  public int writesInFlight() {
    return MAX_WRITES_IN_FLIGHT - writeSlots.availablePermits();
  }

  /** A held write slot. */
  private interface WriteSlot extends AutoCloseable {
    @Override
    void close();
  }

  /** Completes once this replica's watch has applied {@code revision}. */
  CompletableFuture<Long> afterApplied(long revision) {
    noteEtcdRevision(revision);
    if (applied >= revision) {
      return CompletableFuture.completedFuture(revision);
    }
    CompletableFuture<Void> waiter = new CompletableFuture<>();
    appliedWaiters.computeIfAbsent(revision, r -> new CopyOnWriteArrayList<>()).add(waiter);
    if (applied >= revision) {
      releaseWaiters(applied);
    }
    // Committed in etcd already; the timeout only bounds how long we wait for our own watch.
    return waiter.orTimeout(options.watchStallAfter().toMillis() * 3, TimeUnit.MILLISECONDS)
        .handle((ok, failure) -> revision);
  }

  private void releaseWaiters(long upTo) {
    var done = appliedWaiters.headMap(upTo, true);
    while (!done.isEmpty()) {
      var first = done.pollFirstEntry();
      if (first == null) {
        break;
      }
      first.getValue().forEach(f -> f.complete(null));
    }
  }

  private void noteEtcdRevision(long revision) {
    long seen = seenEtcdRevision;
    while (revision > seen) {
      seenEtcdRevision = revision;
      seen = seenEtcdRevision;
    }
  }

  // ---- the watch ----------------------------------------------------------------------------

  /**
   * Loads everything under the prefix as it was some history ago (up to {@code retainedEntries}
   * revisions, not below etcd's compaction point) and returns that revision; the watch then
   * replays the history since, so this replica can resume agents that were on another replica
   * before it started, without a snapshot.
   */
  private long load() {
    long now = call(kv.get(key("meta/layout")), "reading " + prefix + "meta/layout").getHeader().getRevision();
    long revision = Math.max(1, now - options.retainedEntries());
    GetResponse all;
    try {
      all = call(kv.get(key(""), GetOption.builder().withRange(key(UNWATCHED)).withRevision(revision).build()),
          "loading " + prefix + " at revision " + revision);
    } catch (EtcdCalls.EtcdCallException e) {
      if (!String.valueOf(e.getMessage()).contains("compacted")) {
        throw e;
      }
      // History before the compaction point is gone: start from now; older resumes get a snapshot.
      all = call(kv.get(key(""), GetOption.builder().withRange(key(UNWATCHED)).build()), "loading " + prefix);
      revision = all.getHeader().getRevision();
    }
    Map<String, Map<String, KeyListener.Stored>> forListeners = new HashMap<>();
    listeners.keySet().forEach(p -> forListeners.put(p, new HashMap<>()));
    synchronized (lock) {
      clusters.clear();
      views.clear();
      recent.clear();
      recentCount = 0;
      Peering rules = new Peering(PeeringRules.EMPTY, PeeringDefault.ALLOW);
      for (KeyValue kv0 : all.getKvs()) {
        String rel = relative(kv0.getKey());
        if (rel.startsWith(CLUSTERS)) {
          ClusterRecord r = recordOf(kv0);
          clusters.put(r.clusterId(), r);
        } else if (rel.startsWith(VIEWS)) {
          PeerView v = viewOf(kv0);
          views.put(v.key(), v);
        } else if (rel.startsWith(PEERING)) {
          rules = peeringAfter(rules, rel, kv0, true);
        }
      }
      peering = rules;
      floor = revision;
      applied = revision;
      memberRevision = revision;
    }
    // Revocations and the like are loaded as of now, not replayed: a replica that just started
    // must not let a revoked cluster in while its watch catches up.
    long head = Math.max(now, revision);
    for (String p : listeners.keySet()) {
      for (KeyValue kv0 : call(kv.get(key(p), GetOption.builder().isPrefix(true).withRevision(head).build()),
          "loading " + prefix + p).getKvs()) {
        forListeners.get(p).put(relative(kv0.getKey()),
            new KeyListener.Stored(kv0.getValue().getBytes(), kv0.getModRevision()));
      }
    }
    listenersLoadedAt = head;
    // Caught up once the watch has replayed up to the newest key present now.
    catchUpTarget = newestWatchedRevision();
    forListeners.forEach((p, values) -> listeners.get(p).loaded(values, head));
    log.info("etcd membership loaded prefix={} mesh_uid={} revision={} head={} clusters={}", prefix, meshUid,
        revision, head, clusters.size());
    return revision;
  }

  /** The revision of the newest key in the watched range (0: none): what a caught-up watch has applied. */
  private long newestWatchedRevision() {
    GetResponse newest = call(kv.get(key(""), GetOption.builder().withRange(key(UNWATCHED)).withKeysOnly(true)
        .withSortField(GetOption.SortTarget.MOD).withSortOrder(GetOption.SortOrder.DESCEND).withLimit(1).build()),
        "reading the newest key under " + prefix);
    return newest.getKvs().isEmpty() ? 0 : newest.getKvs().get(0).getModRevision();
  }

  private void raiseCatchUpTarget() {
    long newest = newestWatchedRevision();
    if (newest > catchUpTarget) {
      catchUpTarget = newest;
    }
  }

  private void startWatch(long fromRevision) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      // The generation moves first: closing the replaced watcher calls its completion listener,
      // which must see itself replaced, not a watch that ended and needs a restart.
      long generation = ++watchGeneration;
      if (watcher != null) {
        watcher.close();
      }
      // No previous values: nothing here reads them, and each would cost etcd a read per event and
      // double what the watch carries.
      WatchOption option = WatchOption.builder().withRange(key(UNWATCHED)).withRevision(fromRevision)
          .withProgressNotify(true).build();
      lastWatchResponseNanos = System.nanoTime();
      progressRequestedNanos = 0;
      watchReplacing = false;
      watcher = client.getWatchClient().watch(key(""), option, Watch.listener(
          r -> onWatch(generation, r), e -> onWatchError(generation, e), () -> onWatchError(generation, null)));
    }
  }

  private void onWatch(long generation, WatchResponse response) {
    List<KeyChange> forListeners = new ArrayList<>();
    long advancedTo;
    long memberAdvancedTo;
    synchronized (lock) {
      if (generation != watchGeneration || closed) {
        return;
      }
      long now = System.nanoTime();
      lastEtcdContactNanos = now;
      lastWatchResponseNanos = now;
      progressRequestedNanos = 0;
      if (watchFailures > 0) {
        log.info("etcd watch restored applied={} restarts={} failing_ms={}", applied, watchFailures,
            TimeUnit.NANOSECONDS.toMillis(now - watchFailingSinceNanos));
        watchFailures = 0;
      }
      long before = applied;
      long memberBefore = memberRevision;
      List<WatchEvent> events = response.getEvents();
      int i = 0;
      while (i < events.size()) {
        long revision = events.get(i).getKeyValue().getModRevision();
        int j = i;
        while (j < events.size() && events.get(j).getKeyValue().getModRevision() == revision) {
          j++;
        }
        if (revision > applied) {
          applyGroup(revision, events.subList(i, j), forListeners);
          applied = revision;
        }
        i = j;
      }
      // A progress notification only proves the watch is alive: with etcd 3.4 a requested one may
      // carry a revision whose events are still on their way, so it never advances `applied`.
      noteEtcdRevision(response.getHeader().getRevision());
      advancedTo = applied > before ? applied : -1;
      memberAdvancedTo = memberRevision > memberBefore ? memberRevision : -1;
    }
    for (KeyChange c : forListeners) {
      listeners.get(c.listenerPrefix()).changed(c.key(), c.value(), c.revision());
    }
    if (advancedTo > 0) {
      releaseWaiters(advancedTo);
    }
    if (memberAdvancedTo > 0) {
      long revision = memberAdvancedTo;
      notifyExecutor.execute(() -> durableListeners.forEach(l -> l.accept(revision)));
    }
  }

  private record KeyChange(String listenerPrefix, String key, byte[] value, long revision) {}

  // @GuardedBy("lock")
  private void applyGroup(long revision, List<WatchEvent> group, List<KeyChange> forListeners) {
    Map<String, RemovalReason> reasons = new HashMap<>();
    Set<String> removedNow = new HashSet<>();
    for (WatchEvent e : group) {
      String rel = relative(e.getKeyValue().getKey());
      if (rel.startsWith(REMOVED) && e.getEventType() == WatchEvent.EventType.PUT) {
        reasons.put(rel.substring(REMOVED.length()), parseReason(e.getKeyValue().getValue()));
      } else if (rel.startsWith(CLUSTERS) && e.getEventType() == WatchEvent.EventType.DELETE) {
        removedNow.add(rel.substring(CLUSTERS.length()));
      }
    }
    List<LogEntry> entries = new ArrayList<>();
    long now = System.nanoTime();
    for (WatchEvent e : group) {
      String rel = relative(e.getKeyValue().getKey());
      boolean put = e.getEventType() == WatchEvent.EventType.PUT;
      MembershipEvent event = null;
      if (rel.startsWith(PEERING)) {
        Peering before = peering;
        peering = peeringAfter(before, rel, e.getKeyValue(), put);
        entries.addAll(List.of(PeeringAudience.peersChanged(revision,
            PeerDelta.of(before, peering, List.copyOf(clusters.keySet())), clusters, views, codec, now)));
      } else if (rel.startsWith(CLUSTERS)) {
        String id = rel.substring(CLUSTERS.length());
        if (put) {
          ClusterRecord r = recordOf(e.getKeyValue());
          clusters.put(id, r);
          event = new ClusterUpserted(r);
          io.micrometer.core.instrument.Timer delay = watchDelayTimer;
          long delayNanos = java.time.Duration.between(r.acceptedAt(), clock.instant()).toNanos();
          // Live changes only: what the watch replays at start was accepted long ago.
          if (delay != null && revision > listenersLoadedAt && delayNanos >= 0) {
            delay.record(delayNanos, TimeUnit.NANOSECONDS);
          }
        } else {
          clusters.remove(id);
          views.keySet().removeIf(k -> k.observerClusterId().equals(id) || k.subjectClusterId().equals(id));
          event = new ClusterRemoved(id, reasons.getOrDefault(id, RemovalReason.REMOVED));
        }
      } else if (rel.startsWith(VIEWS)) {
        if (put) {
          PeerView v = viewOf(e.getKeyValue());
          views.put(v.key(), v);
          event = new ViewUpdated(v);
        } else {
          PeerView.Key k = viewKeyOf(rel);
          views.remove(k);
          // A view deleted with its observer or subject is implied by the removal, as in the file log.
          if (!removedNow.contains(k.observerClusterId()) && !removedNow.contains(k.subjectClusterId())) {
            event = new ViewRemoved(k);
          }
        }
      } else if (!rel.startsWith(MEMBERS)) {
        Optional<String> p = listenerFor(rel);
        if (p.isPresent() && revision > listenersLoadedAt) {
          forListeners.add(new KeyChange(p.get(), rel, put ? e.getKeyValue().getValue().getBytes() : null, revision));
        }
      }
      if (event != null) {
        // Addressed under the rules of this revision (a record only to the clusters that may peer with it).
        entries.addAll(List.of(PeeringAudience.address(revision, event, codec.encodeEvent(revision, event), now,
            peering, clusters, codec)));
      }
    }
    if (!entries.isEmpty()) {
      memberRevision = revision;
      recent.put(revision, entries);
      recentCount += entries.size();
      while (recentCount > options.retainedEntries() && recent.size() > 1) {
        var oldest = recent.pollFirstEntry();
        recentCount -= oldest.getValue().size();
        floor = Math.max(floor, oldest.getKey());
      }
    }
  }

  private void onWatchError(long generation, Throwable error) {
    synchronized (lock) {
      if (generation != watchGeneration || closed) {
        return;
      }
    }
    if (error instanceof CompactedException c || rootIs(error, CompactedException.class)) {
      log.warn("etcd watch fell below compaction; reloading state applied={} compacted={}", applied,
          error instanceof CompactedException ce ? ce.getCompactedRevision() : -1);
      restartAfter(Duration.ZERO, true, generation);
      return;
    }
    String why = error == null ? "completed" : EtcdCalls.rootMessage(error);
    restartAfter(watchFailed("etcd watch ended", why), false, generation);
  }

  /**
   * Counts one more restart of a failing watch and returns the delay before it. Logs once when
   * the watch starts failing; the restarts that follow are counted (see {@link #watchRestarts()})
   * and summed up in the line that says it is restored.
   */
  private Duration watchFailed(String what, String why) {
    int failures;
    synchronized (lock) {
      failures = ++watchFailures;
      if (failures == 1) {
        watchFailingSinceNanos = System.nanoTime();
      }
    }
    if (failures == 1) {
      log.warn("{}; restarting it (with back-off) until etcd answers applied={} error=\"{}\"", what, applied, why);
    } else {
      log.debug("{}; restart {} applied={} error=\"{}\"", what, failures, applied, why);
    }
    return watchBackoff.delay(failures, java.util.Optional.empty());
  }

  /**
   * Replaces the watch {@code generation} after {@code delay}, unless it was replaced meanwhile
   * (an ended watch and a stalled one, or a reconnect, restart it once, not once each).
   */
  private void restartAfter(Duration delay, boolean reload, long generation) {
    scheduler.schedule(() -> {
      synchronized (lock) {
        if (generation != watchGeneration || closed) {
          return;
        }
      }
      try {
        watchRestarts++;
        if (reload) {
          long before = memberRevision;
          long revision = load();
          startWatch(revision + 1);
          if (revision > before) {
            notifyExecutor.execute(() -> durableListeners.forEach(l -> l.accept(revision)));
          }
        } else {
          raiseCatchUpTarget();
          startWatch(applied + 1);
        }
      } catch (RuntimeException e) {
        restartAfter(watchFailed("etcd watch restart failed", String.valueOf(e.getMessage())), reload, generation);
      }
    }, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Once per heartbeat interval: keeps this replica's lease alive (re-granting it, and writing the
   * presence key again, when lost) and decides whether the replica is partitioned from etcd.
   * Nothing here moves etcd's revision except a re-grant.
   */
  private void heartbeat() {
    try {
      ensureLease();
      if (unavailable != null) {
        // Back from a partition: not ready until the watch has replayed what changed meanwhile.
        raiseCatchUpTarget();
      }
      setUnavailable(null);
    } catch (RuntimeException e) {
      long silentNanos = System.nanoTime() - lastEtcdContactNanos;
      if (silentNanos > options.partitionedAfter().toNanos()) {
        String why = EtcdClients.diagnose(client, endpoints, Duration.ofMillis(500));
        if (why.startsWith("etcd is unreachable")) {
          setUnavailable("hub replica " + options.replicaName() + " is partitioned from etcd: " + why);
        } else {
          // Members answer but cannot commit: the mesh cannot change, so what we have is current.
          lastEtcdContactNanos = System.nanoTime() - options.partitionedAfter().toNanos() / 2;
          log.warn("etcd heartbeat failed reason=\"{}\"", why);
        }
      }
    }
  }

  /**
   * A watch that delivered nothing for a heartbeat interval is asked for a progress notification;
   * one that still answers nothing {@code watchStallAfter} later is replaced. Asking only a silent
   * watch matters with etcd 3.4: a requested notification is not held back while the watch still
   * replays history, and a silent watch is not replaying.
   */
  private void superviseWatch(long now) {
    long requested = progressRequestedNanos;
    if (requested != 0 && now - requested > options.watchStallAfter().toNanos()) {
      watchStalls++;
      long generation;
      boolean failingAlready;
      synchronized (lock) {
        generation = watchGeneration;
        failingAlready = watchFailures > 0;
        // Under the lock that startWatch clears it under: set after a start that slipped in
        // between, it would read "replacing" until the next stall.
        watchReplacing = true;
      }
      progressRequestedNanos = 0;
      Duration delay = watchFailed("etcd watch stalled: no answer to a progress request within "
          + options.watchStallAfter().toMillis() + " ms", "stalled");
      // The first stall is replaced at once (a hung member: another one answers); while etcd
      // answers nothing at all, replacements back off like restarts after errors.
      restartAfter(failingAlready ? delay : Duration.ZERO, false, generation);
      return;
    }
    if (requested == 0 && now - lastWatchResponseNanos > options.heartbeatInterval().toNanos()) {
      progressRequestedNanos = now;
      client.getWatchClient().requestProgress();
    }
  }

  private void ensureLease() {
    long id = leaseId;
    if (id != 0) {
      try {
        LeaseKeepAliveResponse r = call(client.getLeaseClient().keepAliveOnce(id), "lease keep-alive");
        if (r.getTTL() > 0) {
          return;
        }
      } catch (EtcdCalls.EtcdCallException e) {
        if (!String.valueOf(e.getMessage()).contains("lease not found")) {
          throw e;
        }
      }
      log.info("etcd lease lost; granting a new one replica={} old_lease={}", options.replicaName(), id);
      leaseLosses++;
    }
    long granted = call(client.getLeaseClient().grant(options.leaseTtl().toSeconds()), "lease grant").getID();
    call(kv.put(key(REPLICAS + options.replicaName()), bytes(clock.instant().toString()),
        PutOption.builder().withLeaseId(granted).build()), "writing presence of " + options.replicaName());
    leaseId = granted;
    leaseListeners.forEach(l -> l.accept(granted));
  }

  /**
   * Registers the timers of the stages a change goes through before the fan-out: {@code
   * meshwire.hub.etcd.commit} (an announce's transaction, from this replica to etcd's answer) and
   * {@code meshwire.hub.etcd.watch.delay} (from the writing replica's acceptance of a record,
   * on its wall clock, to this replica's watch applying it: commit plus watch delivery). The
   * fan-out after that is {@code meshwire.hub.fanout.lag}.
   */
  public void bindMetrics(io.micrometer.core.instrument.MeterRegistry meters) {
    commitTimer = io.micrometer.core.instrument.Timer.builder("meshwire.hub.etcd.commit")
        .description("An announce's transaction in etcd, from this replica to etcd's answer")
        .publishPercentileHistogram().register(meters);
    watchDelayTimer = io.micrometer.core.instrument.Timer.builder("meshwire.hub.etcd.watch.delay")
        .description("From a record's acceptance by the replica that wrote it to this replica's watch applying it")
        .publishPercentileHistogram().register(meters);
    io.micrometer.core.instrument.FunctionCounter.builder("meshwire.hub.etcd.announce.timeouts", this,
            EtcdMembership::announceTimeouts)
        .description("Announces whose etcd transaction got no answer within the call timeout (sent again once)")
        .register(meters);
  }

  /** This replica's current lease (0 before the first grant): keys on it vanish when the replica does. */
  public long leaseId() {
    return leaseId;
  }

  /** Registers {@code listener}, told each newly granted lease (after a loss, keys on the old one are gone). */
  public void onLeaseGranted(java.util.function.LongConsumer listener) {
    leaseListeners.add(listener);
  }

  /** How many times the watch answered nothing to a progress request in time and was replaced. */
  public long watchStalls() {
    return watchStalls;
  }

  /** How many times this replica found its lease gone and granted a new one. */
  public long leaseLosses() {
    return leaseLosses;
  }

  private void setUnavailable(String reason) {
    String before = unavailable;
    if (java.util.Objects.equals(before, reason)) {
      return;
    }
    unavailable = reason;
    if (reason != null) {
      log.warn("hub replica stops serving: {}", reason);
    } else if (before != null) {
      log.info("hub replica reconnected to etcd; serving again");
      watchRestarts++;
      startWatch(applied + 1);
    }
    servingListeners.forEach(Runnable::run);
  }

  /** {@code resource} (a store of this replica built on it) is closed first when this closes. */
  public void closeWith(AutoCloseable resource) {
    closeFirst.add(0, resource);
  }

  @Override
  public void close() {
    for (AutoCloseable c : closeFirst) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("closing {} failed error=\"{}\"", c.getClass().getSimpleName(), e.toString());
      }
    }
    heartbeatTask.cancel(false);
    watchTask.cancel(false);
    scheduler.shutdownNow();
    upsertWriter.shutdown();
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (watcher != null) {
        watcher.close();
      }
    }
    long id = leaseId;
    if (id != 0) {
      // Presence ends at once instead of after the lease's TTL.
      client.getLeaseClient().revoke(id).orTimeout(1, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
  }

  // ---- keys and values ----------------------------------------------------------------------

  private ByteSequence key(String relative) {
    return bytes(prefix + relative);
  }

  private String relative(ByteSequence key) {
    return key.toString(StandardCharsets.UTF_8).substring(prefix.length());
  }

  private Optional<String> listenerFor(String rel) {
    for (String p : listeners.keySet()) {
      if (rel.startsWith(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static String viewKey(PeerView.Key k) {
    return VIEWS + k.observerClusterId() + "/" + k.subjectClusterId();
  }

  private static PeerView.Key viewKeyOf(String rel) {
    String rest = rel.substring(VIEWS.length());
    int slash = rest.indexOf('/');
    return new PeerView.Key(rest.substring(0, slash), rest.substring(slash + 1));
  }

  private ClusterRecord recordOf(KeyValue kv0) {
    if (!(codec.decodeEvent(kv0.getValue().getBytes()) instanceof ClusterUpserted u)) {
      throw new IllegalStateException("etcd key " + kv0.getKey() + " does not hold a cluster record");
    }
    return u.record().accepted(u.record().acceptedAt(), kv0.getModRevision());
  }

  private PeerView viewOf(KeyValue kv0) {
    if (!(codec.decodeEvent(kv0.getValue().getBytes()) instanceof ViewUpdated v)) {
      throw new IllegalStateException("etcd key " + kv0.getKey() + " does not hold a view");
    }
    return v.view();
  }

  private static RemovalReason parseReason(ByteSequence value) {
    try {
      return RemovalReason.valueOf(value.toString(StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return RemovalReason.REMOVED;
    }
  }

  private static boolean rootIs(Throwable t, Class<?> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
