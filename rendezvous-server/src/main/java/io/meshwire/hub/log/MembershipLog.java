package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.PeeringChanged;
import io.meshwire.hub.membership.MembershipEvent.PeersChanged;
import io.meshwire.hub.membership.MembershipEvent.ViewRemoved;
import io.meshwire.hub.membership.MembershipEvent.ViewUpdated;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.membership.UnreadableRecord;
import io.meshwire.hub.membership.WireGuardKey;
import io.meshwire.hub.policy.PeerDelta;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringDefault;
import io.meshwire.hub.store.Entry;
import io.meshwire.hub.store.MembershipStore;
import io.meshwire.hub.store.Recovered;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code MembershipLog} is the hub's source of truth: the current membership plus the recent
 * changes, each at a global revision, made durable through a {@link MembershipStore}.
 *
 * <p>Thread-safety: every method may be called from any thread. Mutations and reads of the
 * membership are serialized by one lock; a mutation assigns the next revision, encodes the event
 * once and hands it to the store under that lock, so revisions reach the store in order. Watchers
 * only see entries up to {@link #durableRevision()}: an entry becomes visible once the store has
 * fsync'd it, and listeners registered with {@link #onDurable} are told (on the notify executor,
 * never on the store's thread).
 *
 * <p>Validation of the membership rules that need the current state (generations only grow, a
 * view's subject must be a member) happens here, under the lock, before anything changes.
 *
 * <p>Peering: the log also keeps the operator's peering rules (labels and policies) and decides
 * each entry's audience when it is appended, under the rules of that revision: a record goes
 * only to the clusters allowed to peer with it (in the mode each may use), and a change of the
 * rules becomes one {@link PeersChanged} entry per agent whose peers it changes, all at the
 * change's revision. Only the rule change itself is stored; recovery derives the same entries
 * again. Without policies (and with the default {@code allow}) entries go to everyone, as before.
 */
public final class MembershipLog implements Membership {

  private static final Logger log = LoggerFactory.getLogger(MembershipLog.class);

  private final MembershipStore store;
  private final EventCodec codec;
  private final InstantSource clock;
  private final Executor notifyExecutor;
  private final Executor checkpointExecutor;
  private final int retainedEntries;
  private final int checkpointInterval;
  private final String meshUid;
  private final List<LongConsumer> durableListeners = new CopyOnWriteArrayList<>();

  private final Object lock = new Object();
  // @GuardedBy("lock")
  private final Map<String, ClusterRecord> clusters = new TreeMap<>();
  // @GuardedBy("lock")
  private final Map<PeerView.Key, PeerView> views = new HashMap<>();
  // @GuardedBy("lock"): which cluster holds each WireGuard public key
  private final Map<WireGuardKey, String> keyHolders = new HashMap<>();
  // @GuardedBy("lock"): the entries of revisions (floor, head], those of revision r at index r % length
  private final LogEntry[][] ring;
  // @GuardedBy("lock")
  private Peering peering;
  // @GuardedBy("lock"): counts joins, leaves and peering changes, the inputs of peering deltas
  private long peeringInputs;
  // @GuardedBy("lock"): a since-revision below floor cannot be served from `recent`
  private long floor;
  // @GuardedBy("lock")
  private long head;
  // @GuardedBy("lock"): the state captured at the last checkpoint, written to the store at the next
  private SnapshotImage pendingCheckpoint;
  // @GuardedBy("lock")
  private long lastCheckpointRevision;
  // @GuardedBy("lock")
  private Throwable storeFailure;

  private volatile long durable;
  // For tests: runs after a peering change's deltas are computed, before the lock is taken again.
  volatile Runnable afterDeltasComputed = () -> { };

  /**
   * Opens the log on what the store recovered: the snapshot's state, then every later entry
   * replayed.
   */
  public MembershipLog(MembershipStore store, EventCodec codec, InstantSource clock, Options options,
      Executor notifyExecutor, Executor checkpointExecutor) {
    this.store = store;
    this.codec = codec;
    this.clock = clock;
    this.notifyExecutor = notifyExecutor;
    this.checkpointExecutor = checkpointExecutor;
    this.retainedEntries = options.retainedEntries();
    this.checkpointInterval = options.checkpointInterval();
    this.ring = new LogEntry[options.retainedEntries()][];
    this.peering = new Peering(io.meshwire.hub.policy.PeeringRules.EMPTY, options.defaultPeering());
    Recovered recovered = store.recovered();
    this.meshUid = recovered.meshUid();
    synchronized (lock) {
      if (recovered.snapshot() != null) {
        SnapshotImage image;
        try {
          image = codec.decodeState(recovered.snapshot().revision(), recovered.snapshot().state());
        } catch (UnreadableRecord e) {
          throw new UnreadableEntryException("stored snapshot at revision " + recovered.snapshot().revision(),
              e.clusterId().orElse(null), e.getMessage());
        }
        image.clusters().forEach(c -> applyToState(new ClusterUpserted(c)));
        peering = new Peering(image.peering().rules(), options.defaultPeering());
        image.viewsBySubject().values().forEach(vs -> vs.forEach(v -> views.put(v.key(), v)));
        head = image.revision();
        floor = image.revision();
        lastCheckpointRevision = image.revision();
      }
      long now = System.nanoTime();
      for (Entry entry : recovered.entries()) {
        if (entry.revision() != head + 1) {
          throw new IllegalStateException("store returned revision " + entry.revision() + " after " + head);
        }
        MembershipEvent event;
        try {
          event = codec.decodeEvent(entry.bytes());
        } catch (UnreadableRecord e) {
          throw new UnreadableEntryException("stored entry at revision " + entry.revision(),
              e.clusterId().orElse(null), e.getMessage());
        }
        head = entry.revision();
        ring[(int) (head % ring.length)] = applyAndAddress(head, event, entry.bytes(), now, null);
      }
      floor = Math.max(floor, head - ring.length);
      durable = head;
    }
    log.info("membership log opened mesh_uid={} revision={} floor={} clusters={} replayed={}",
        meshUid, head, floor, clusters.size(), recovered.entries().size());
  }

  /**
   * Tuning of retention and checkpoints, and the hub's {@code --default-peering} (what a cluster
   * no allow policy speaks for may do).
   */
  public record Options(int retainedEntries, int checkpointInterval, PeeringDefault defaultPeering) {
    public Options {
      if (retainedEntries < 1 || checkpointInterval < 1) {
        throw new IllegalArgumentException("retainedEntries and checkpointInterval must be >= 1");
      }
    }

    /** Options with the default peering {@code allow}. */
    public Options(int retainedEntries, int checkpointInterval) {
      this(retainedEntries, checkpointInterval, PeeringDefault.ALLOW);
    }

    public static Options defaults() {
      return new Options(100_000, 50_000);
    }
  }

  @Override
  public String meshUid() {
    return meshUid;
  }

  /** The newest revision whose entry is durable and visible to watchers. */
  @Override
  public long durableRevision() {
    return durable;
  }

  /** The oldest since-revision that can be resumed without a snapshot. */
  @Override
  public long floorRevision() {
    synchronized (lock) {
      return floor;
    }
  }

  /** Registers a listener told the new durable revision each time it advances. */
  @Override
  public void onDurable(LongConsumer listener) {
    durableListeners.add(listener);
  }

  /**
   * Stores {@code record} (already validated on its own) as the cluster's record.
   *
   * @return completes with the revision once durable
   * @throws Rejection FAILED_PRECONDITION when the generation does not grow; ALREADY_EXISTS when
   *     another cluster holds the same WireGuard public key (two gateways with one key would take
   *     each other's traffic)
   */
  @Override
  public CompletableFuture<Long> upsert(ClusterRecord record) throws Rejection {
    synchronized (lock) {
      String holder = keyHolders.get(record.wireguardPublicKey());
      if (holder != null && !holder.equals(record.clusterId())) {
        throw new Rejection(Rejection.Kind.ALREADY_EXISTS, "record.wireguard_public_key: "
            + record.wireguardPublicKey() + " is already held by cluster \"" + holder + "\"");
      }
      ClusterRecord current = clusters.get(record.clusterId());
      if (current != null && record.generation() <= current.generation()) {
        throw new Rejection(Rejection.Kind.FAILED_PRECONDITION, "record.generation: " + record.generation()
            + " is not greater than the stored generation " + current.generation());
      }
      return append(new ClusterUpserted(record.accepted(clock.instant(), head + 1)));
    }
  }

  /**
   * Stores the views decided by {@code observer} and withdraws its views of {@code withdrawn}.
   * All or nothing.
   *
   * @return completes with the last revision written once durable (the current durable revision
   *     when there was nothing to change)
   */
  @Override
  public CompletableFuture<Long> publishViews(String observer, List<PeerView> updated, Collection<String> withdrawn)
      throws Rejection {
    synchronized (lock) {
      for (int i = 0; i < updated.size(); i++) {
        PeerView view = updated.get(i);
        String field = "views[" + i + "]";
        if (!clusters.containsKey(view.subjectClusterId())) {
          throw new Rejection(Rejection.Kind.FAILED_PRECONDITION,
              field + ".subject_cluster_id: \"" + view.subjectClusterId() + "\" is not a member of the mesh");
        }
        PeerView current = views.get(view.key());
        if (current != null && view.generation() <= current.generation()) {
          throw new Rejection(Rejection.Kind.FAILED_PRECONDITION, field + ".generation: " + view.generation()
              + " is not greater than the stored generation " + current.generation());
        }
      }
      CompletableFuture<Long> last = null;
      for (PeerView view : updated) {
        last = append(new ViewUpdated(view));
      }
      for (String subject : withdrawn) {
        PeerView.Key key = new PeerView.Key(observer, subject);
        if (views.containsKey(key)) {
          last = append(new ViewRemoved(key));
        }
      }
      return last != null ? last : CompletableFuture.completedFuture(durable);
    }
  }

  /**
   * Removes a cluster, and with it every view from or about it.
   *
   * @throws Rejection NOT_FOUND when the cluster has no record
   */
  @Override
  public CompletableFuture<Long> remove(String clusterId, MembershipEvent.RemovalReason reason) throws Rejection {
    synchronized (lock) {
      if (!clusters.containsKey(clusterId)) {
        throw new Rejection(Rejection.Kind.NOT_FOUND, "cluster_id: \"" + clusterId + "\" has no record");
      }
      return append(new ClusterRemoved(clusterId, reason));
    }
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

  /**
   * The whole membership at the newest revision (which may not be durable yet: a watcher sends it
   * only once {@link #durableRevision()} has reached {@link SnapshotImage#revision()}).
   */
  @Override
  public SnapshotImage image() {
    synchronized (lock) {
      return imageLocked();
    }
  }

  /**
   * Durable entries after {@code afterRevision}, at most {@code max}; empty when there are none.
   *
   * @return empty Optional when {@code afterRevision} is below the floor: the caller needs a
   *     snapshot
   */
  @Override
  public Optional<List<LogEntry>> readAfter(long afterRevision, int max) {
    long visible = durable;
    synchronized (lock) {
      if (afterRevision < floor) {
        return Optional.empty();
      }
      long last = Math.min(visible, afterRevision + max);
      List<LogEntry> out = new ArrayList<>((int) Math.max(0, last - afterRevision));
      for (long r = afterRevision + 1; r <= last; r++) {
        out.addAll(List.of(ring[(int) (r % ring.length)]));
      }
      return Optional.of(out);
    }
  }

  @Override
  public Peering peering() {
    synchronized (lock) {
      return peering;
    }
  }

  /**
   * Applies an operator change of the peering rules: stored as one entry, delivered as one
   * {@link PeersChanged} per agent whose peers change (nothing to the others).
   *
   * @throws Rejection NOT_FOUND when deleting a policy that does not exist; FAILED_PRECONDITION
   *     when the change would leave no two members connected and {@code force} is false
   */
  @Override
  public CompletableFuture<PeeringResult> changePeering(PeeringChange change, boolean force) throws Rejection {
    // The deltas are computed outside the lock (announces and reads would wait for them) from the
    // members and rules of one moment, and appended only if neither changed meanwhile; otherwise they
    // are computed again under the lock, so the change still gets exactly one revision.
    Proposal proposal;
    synchronized (lock) {
      proposal = propose(change, force);
    }
    if (proposal.after() == null) {
      return CompletableFuture.completedFuture(new PeeringResult(durable, 0, true));
    }
    Map<String, PeerDelta> deltas = PeerDelta.of(proposal.before(), proposal.after(), proposal.members());
    afterDeltasComputed.run();
    synchronized (lock) {
      if (peeringInputs != proposal.inputs()) {
        proposal = propose(change, force);
        if (proposal.after() == null) {
          return CompletableFuture.completedFuture(new PeeringResult(durable, 0, true));
        }
        deltas = null;
      }
      CompletableFuture<Long> written = append(new PeeringChanged(change), deltas);
      int affected = ring[(int) (head % ring.length)].length;
      return written.thenApply(revision -> new PeeringResult(revision, affected, false));
    }
  }

  /**
   * A validated peering change at the state counted {@code inputs}: the rules before and after and the
   * members; {@code after} is null when the change changes nothing.
   */
  private record Proposal(long inputs, Peering before, Peering after, List<String> members) {}

  // @GuardedBy("lock")
  private Proposal propose(PeeringChange change, boolean force) throws Rejection {
    List<String> members = List.copyOf(clusters.keySet());
    Peering after = PeeringAudience.checkedChange(peering, change, members, force);
    return new Proposal(peeringInputs, peering, after.rules().equals(peering.rules()) ? null : after, members);
  }

  @Override
  public void close() {
    store.close();
  }

  // @GuardedBy("lock")
  private CompletableFuture<Long> append(MembershipEvent event) {
    return append(event, null);
  }

  /** Appends {@code event}; {@code deltas}: those of a peering change computed at this state, or null. */
  // @GuardedBy("lock")
  private CompletableFuture<Long> append(MembershipEvent event, Map<String, PeerDelta> deltas) {
    if (storeFailure != null) {
      return CompletableFuture.failedFuture(new IllegalStateException("store failed earlier", storeFailure));
    }
    long revision = head + 1;
    byte[] encoded = codec.encodeEvent(revision, event);
    CompletableFuture<Void> written = store.append(revision, encoded);
    head = revision;
    ring[(int) (revision % ring.length)] = applyAndAddress(revision, event, encoded, System.nanoTime(), deltas);
    floor = Math.max(floor, revision - ring.length);
    maybeCheckpoint();
    // Completions run on the notify executor: the store's writer thread only writes and fsyncs.
    return written.handleAsync((ok, failure) -> {
      if (failure != null) {
        synchronized (lock) {
          storeFailure = failure;
        }
        log.error("store append failed revision={} error=\"{}\"", revision, failure.toString());
        throw new IllegalStateException("store append failed at revision " + revision, failure);
      }
      advanceDurable(revision);
      return revision;
    }, notifyExecutor);
  }

  private void advanceDurable(long revision) {
    // The store completes appends in revision order, but callbacks may race; keep the maximum.
    boolean advanced = false;
    synchronized (lock) {
      if (revision > durable) {
        durable = revision;
        advanced = true;
      }
    }
    if (advanced) {
      durableListeners.forEach(l -> l.accept(revision));
    }
  }

  /**
   * Applies {@code event} to the state and returns the entries watchers receive for it: the
   * stored bytes for the clusters the peering rules allow, re-encoded where a receiver's mode
   * differs, or one {@link PeersChanged} per affected agent for a change of the rules ({@code deltas}
   * when computed already, else computed here).
   */
  // @GuardedBy("lock")
  private LogEntry[] applyAndAddress(long revision, MembershipEvent event, byte[] encoded, long now,
      Map<String, PeerDelta> deltas) {
    LogEntry[] entries = event instanceof PeeringChanged c
        ? PeeringAudience.peersChanged(revision, deltas != null ? deltas
            : PeerDelta.of(peering, peering.with(c.change()), List.copyOf(clusters.keySet())), clusters, views, codec, now)
        : PeeringAudience.address(revision, event, encoded, now, peering, clusters, codec);
    applyToState(event);
    return entries;
  }

  // @GuardedBy("lock")
  private void applyToState(MembershipEvent event) {
    switch (event) {
      case ClusterUpserted u -> {
        ClusterRecord previous = clusters.put(u.record().clusterId(), u.record());
        if (previous != null) {
          keyHolders.remove(previous.wireguardPublicKey(), previous.clusterId());
        } else {
          peeringInputs++;
        }
        keyHolders.put(u.record().wireguardPublicKey(), u.record().clusterId());
      }
      case ClusterRemoved r -> {
        ClusterRecord previous = clusters.remove(r.clusterId());
        if (previous != null) {
          keyHolders.remove(previous.wireguardPublicKey(), previous.clusterId());
          peeringInputs++;
        }
        views.keySet().removeIf(k -> k.observerClusterId().equals(r.clusterId())
            || k.subjectClusterId().equals(r.clusterId()));
      }
      case ViewUpdated v -> views.put(v.view().key(), v.view());
      case ViewRemoved v -> views.remove(v.key());
      case PeeringChanged c -> {
        peering = peering.with(c.change());
        peeringInputs++;
      }
      case PeersChanged p -> throw new IllegalStateException("derived event applied to the state");
    }
  }

  // @GuardedBy("lock")
  private SnapshotImage imageLocked() {
    return SnapshotImage.of(head, clusters.values(), views.values()).withPeering(peering);
  }

  /**
   * Every {@code checkpointInterval} revisions, writes the state captured at the previous
   * checkpoint to the store, which then drops the entries up to it. Writing the older capture
   * keeps at least one interval of entries on disk, so watchers can still resume after a restart.
   */
  // @GuardedBy("lock")
  private void maybeCheckpoint() {
    if (head - lastCheckpointRevision < checkpointInterval) {
      return;
    }
    SnapshotImage toWrite = pendingCheckpoint;
    pendingCheckpoint = imageLocked();
    lastCheckpointRevision = head;
    if (toWrite == null) {
      return;
    }
    checkpointExecutor.execute(() -> {
      if (durable < toWrite.revision()) {
        // The capture is one interval old, so this is rare; the next checkpoint catches up.
        log.info("checkpoint skipped revision={} durable={}", toWrite.revision(), durable);
        return;
      }
      try {
        store.snapshot(toWrite.revision(), codec.encodeState(toWrite));
        log.info("checkpoint written revision={} clusters={}", toWrite.revision(), toWrite.clusters().size());
      } catch (Exception e) {
        log.warn("checkpoint failed revision={} error=\"{}\"", toWrite.revision(), e.toString());
      }
    });
  }
}
