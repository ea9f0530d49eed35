package io.meshwire.agent.sync;

import io.meshwire.agent.hub.HubEvents;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.View;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code MeshSync} applies what the hub says to the agent's last-known state, persists it, and
 * tells the data plane. It owns the safety rules: a hub that lost its data (another mesh UID) or a
 * snapshot that would remove most peers at once is not applied; the agent keeps its peers, flags
 * the situation ({@link #held()}) and waits for an operator: {@code meshwire agent rejoin} (the
 * running agent then calls {@link #acceptNextMesh()}) or a restart with {@code acceptHubState}.
 *
 * <p>When it adopts another mesh, the peers the new hub does not list yet are {@link CarriedPeers
 * carried}: kept, data plane untouched, until they announce in the new mesh, the hub removes them,
 * or the grace period ends ({@link #expireCarried()}).
 *
 * <p>The persisted revision is a resume point: everything up to it has been applied. So after a
 * hello that announces a snapshot, nothing is applied (and the revision does not move) until that
 * snapshot is; if it never comes (it was dropped as malformed), the next Watch gets it again.
 *
 * <p>Views of this cluster pass a check ({@code viewProblem}, e.g. {@code ViewChecks}) before they
 * are stored: a view that fails it is not applied (the previous one, if any, stays), and is logged
 * at WARN and counted ({@link #rejectedViews()}).
 *
 * <p>Thread-safety: Watch events arrive on one thread at a time, but {@link #state()} and
 * {@link #held()} are read from others; all access goes through this object's lock. Listeners run
 * under that lock and must only enqueue work.
 */
public final class MeshSync implements HubEvents {

  private static final Logger log = LoggerFactory.getLogger(MeshSync.class);

  private final String self;
  private final StateFile file;
  private final Consumer<AgentState> onChange;
  private final Function<View, Optional<String>> viewProblem;
  // @GuardedBy("this")
  private final CarriedPeers carried;
  // @GuardedBy("this")
  private boolean acceptHubState;
  // @GuardedBy("this")
  private AgentState state;
  // @GuardedBy("this")
  private String pendingMeshUid = "";
  // @GuardedBy("this")
  private Optional<String> held = Optional.empty();
  // @GuardedBy("this")
  private boolean caughtUp;
  // @GuardedBy("this")
  private boolean awaitingSnapshot;
  // @GuardedBy("this")
  private long malformedEvents;
  // @GuardedBy("this")
  private long stateWriteErrors;
  // @GuardedBy("this")
  private long rejectedViews;
  private volatile Consumer<List<io.meshwire.netaddr.HostPort>> relaysListener = r -> {};

  /**
   * @param onChange told the new state after every applied change (after it is durable)
   * @param acceptHubState apply the next snapshot even if it fails the safety rules (operator's choice)
   */
  public MeshSync(String self, AgentState initial, StateFile file, boolean acceptHubState,
      Consumer<AgentState> onChange) {
    this(self, initial, file, acceptHubState, onChange, v -> Optional.empty());
  }

  /**
   * @param viewProblem why a view of this cluster cannot be applied, empty when it can
   */
  public MeshSync(String self, AgentState initial, StateFile file, boolean acceptHubState,
      Consumer<AgentState> onChange, Function<View, Optional<String>> viewProblem) {
    this(self, initial, file, acceptHubState, onChange, viewProblem,
        CarriedPeers.inMemory(java.time.InstantSource.system(), CarriedPeers.DEFAULT_GRACE));
  }

  /**
   * @param carried the peers kept from the previous mesh after a rejoin (persisted in the agent)
   */
  public MeshSync(String self, AgentState initial, StateFile file, boolean acceptHubState,
      Consumer<AgentState> onChange, Function<View, Optional<String>> viewProblem, CarriedPeers carried) {
    this.viewProblem = viewProblem;
    this.carried = carried;
    this.self = self;
    this.state = initial;
    this.file = file;
    this.acceptHubState = acceptHubState;
    this.onChange = onChange;
  }

  public synchronized AgentState state() {
    return state;
  }

  /** Why the agent is not applying the hub's state, if it is not. */
  public synchronized Optional<String> held() {
    return held;
  }

  public synchronized boolean caughtUp() {
    return caughtUp;
  }

  public synchronized long stateWriteErrors() {
    return stateWriteErrors;
  }

  public synchronized long malformedEvents() {
    return malformedEvents;
  }

  /** Views of this cluster refused by the view check since start. */
  public synchronized long rejectedViews() {
    return rejectedViews;
  }

  /** Peers kept from the previous mesh that the new hub does not list yet (after a rejoin). */
  public synchronized java.util.Set<String> carried() {
    return carried.ids();
  }

  /** The carried peers, each with when it is dropped unless it announces in the new mesh. */
  public synchronized java.util.Map<String, java.time.Instant> carriedUntil() {
    java.time.Instant until = carried.deadline();
    return carried.ids().stream().collect(java.util.stream.Collectors.toMap(id -> id, id -> until));
  }

  /**
   * Takes the next hub state although its mesh UID differs (the operator re-enrolled the cluster
   * with {@code meshwire agent rejoin} while this agent runs); a hold is lifted, the next Watch
   * gets the new hub's snapshot.
   */
  public synchronized void acceptNextMesh() {
    acceptHubState = true;
    if (held.isPresent()) {
      log.info("hold lifted reason=\"rejoin: the next hub state is adopted\" was=\"{}\"", held.get());
    }
    held = Optional.empty();
  }

  /**
   * Drops the carried peers once the grace period is over: the clusters that did not rejoin in
   * time lose their tunnels, routes and NAT here. Called periodically by the agent.
   */
  public synchronized void expireCarried() {
    if (!carried.expired()) {
      return;
    }
    java.util.Set<String> gone = carried.ids();
    Map<String, PeerRecord> peers = new HashMap<>(state.peers());
    Map<String, View> viewsOfMe = new HashMap<>(state.viewsOfMe());
    Map<String, View> myViews = new HashMap<>(state.myViews());
    peers.keySet().removeAll(gone);
    viewsOfMe.keySet().removeAll(gone);
    myViews.keySet().removeAll(gone);
    carried.clear();
    log.warn("rejoin: grace period over, removing peers that did not announce in the new mesh peers={}", gone);
    commit(state.withPeers(peers).withViewsOfMe(viewsOfMe).withMyViews(myViews));
  }

  /** Changes the state outside the Watch stream (own generation, own views) and persists it. */
  public synchronized AgentState update(java.util.function.UnaryOperator<AgentState> change) {
    commit(change.apply(state));
    return state;
  }

  /** Tells {@code listener} the relay list of every hello (the agent keeps and persists it). */
  public void onRelays(Consumer<List<io.meshwire.netaddr.HostPort>> listener) {
    this.relaysListener = java.util.Objects.requireNonNull(listener, "listener");
  }

  @Override
  public void relays(List<io.meshwire.netaddr.HostPort> relays) {
    relaysListener.accept(relays);
  }

  @Override
  public synchronized void hello(String meshUid, long headRevision, boolean snapshotFollows) {
    pendingMeshUid = meshUid;
    caughtUp = false;
    awaitingSnapshot = snapshotFollows;
    if (!state.meshUid().isEmpty() && !state.meshUid().equals(meshUid) && !acceptHubState) {
      hold("hub mesh_uid " + meshUid + " differs from the state's " + state.meshUid()
          + " (hub lost its data?); keeping " + state.peers().size() + " peers");
    }
  }

  @Override
  public synchronized void snapshot(long revision, List<PeerRecord> clusters, List<View> views) {
    if (held.isPresent()) {
      return;
    }
    Map<String, PeerRecord> peers = new HashMap<>();
    clusters.stream().filter(c -> !c.clusterId().equals(self)).forEach(c -> peers.put(c.clusterId(), c));
    // Adopting another mesh (rejoin): the clusters not in it yet keep their tunnels until they
    // announce there or the grace period ends. Within one mesh, only those already carried stay.
    boolean meshChanged = !state.meshUid().isEmpty() && !state.meshUid().equals(pendingMeshUid);
    java.util.Set<String> carry = new java.util.TreeSet<>(state.peers().keySet());
    carry.removeAll(peers.keySet());
    if (!meshChanged) {
      carry.retainAll(carried.ids());
    }
    long removed = state.peers().keySet().stream().filter(id -> !peers.containsKey(id) && !carry.contains(id)).count();
    int before = state.peers().size();
    if (!acceptHubState && before >= 2 && removed * 2 > before) {
      hold("snapshot at revision " + revision + " would remove " + removed + " of " + before
          + " peers at once; keeping them");
      return;
    }
    Map<String, View> viewsOfMe = new HashMap<>();
    views.stream().filter(v -> v.subjectClusterId().equals(self)).forEach(v -> {
      if (acceptable(revision, v)) {
        viewsOfMe.put(v.observerClusterId(), v);
      } else if (state.viewsOfMe().containsKey(v.observerClusterId())) {
        viewsOfMe.put(v.observerClusterId(), state.viewsOfMe().get(v.observerClusterId()));
      }
    });
    carry.forEach(id -> {
      peers.put(id, state.peers().get(id));
      Optional.ofNullable(state.viewsOfMe().get(id)).ifPresent(v -> viewsOfMe.put(id, v));
    });
    if (!carry.equals(carried.ids())) {
      if (carry.isEmpty()) {
        carried.clear();
      } else if (meshChanged) {
        carried.start(pendingMeshUid, carry); // before the state: a crash in between carries again
        log.info("rejoin: keeping peers not yet in the new mesh peers={} until={}", carry, carried.deadline());
      } else {
        carried.ids().stream().filter(id -> !carry.contains(id)).forEach(carried::release);
      }
    }
    Map<String, View> myViews = new HashMap<>(state.myViews());
    myViews.keySet().retainAll(peers.keySet());
    acceptHubState = false;
    awaitingSnapshot = false;
    log.info("snapshot applied revision={} peers={} removed={} carried={}", revision, peers.size(), removed,
        carry.size());
    commit(state.withPeers(peers).withViewsOfMe(viewsOfMe).withMyViews(myViews).atRevision(pendingMeshUid, revision));
  }

  @Override
  public synchronized void upserted(long revision, PeerRecord record) {
    if (!applying()) {
      return;
    }
    AgentState next = state.atRevision(pendingMeshUid, revision);
    if (!record.clusterId().equals(self)) {
      Map<String, PeerRecord> peers = new HashMap<>(state.peers());
      PeerRecord old = peers.put(record.clusterId(), record);
      if (carried.release(record.clusterId())) {
        log.info("rejoin: carried peer announced in the new mesh cluster={} revision={} still_carried={}",
            record.clusterId(), revision, carried.ids().size());
      } else if (old == null) {
        log.info("peer joined cluster={} revision={}", record.clusterId(), revision);
      }
      next = next.withPeers(peers);
    }
    commit(next);
  }

  @Override
  public synchronized void removed(long revision, String clusterId, boolean revoked) {
    if (!applying()) {
      return;
    }
    Map<String, PeerRecord> peers = new HashMap<>(state.peers());
    Map<String, View> viewsOfMe = new HashMap<>(state.viewsOfMe());
    Map<String, View> myViews = new HashMap<>(state.myViews());
    boolean known = peers.remove(clusterId) != null;
    carried.release(clusterId);
    viewsOfMe.remove(clusterId);
    myViews.remove(clusterId);
    if (known) {
      log.info("peer removed cluster={} revoked={} revision={}", clusterId, revoked, revision);
    }
    commit(state.withPeers(peers).withViewsOfMe(viewsOfMe).withMyViews(myViews).atRevision(pendingMeshUid, revision));
  }

  /** A peering change: one commit for every peer gained and lost, whatever their number. */
  @Override
  public synchronized void peersChanged(long revision, List<PeerRecord> upserted, List<String> removed) {
    if (!applying()) {
      return;
    }
    Map<String, PeerRecord> peers = new HashMap<>(state.peers());
    Map<String, View> viewsOfMe = new HashMap<>(state.viewsOfMe());
    Map<String, View> myViews = new HashMap<>(state.myViews());
    upserted.stream().filter(r -> !r.clusterId().equals(self)).forEach(r -> peers.put(r.clusterId(), r));
    for (String id : removed) {
      peers.remove(id);
      viewsOfMe.remove(id);
      myViews.remove(id);
    }
    log.info("peers changed by policy revision={} gained={} lost={}", revision, upserted.size(), removed.size());
    commit(state.withPeers(peers).withViewsOfMe(viewsOfMe).withMyViews(myViews).atRevision(pendingMeshUid, revision));
  }

  @Override
  public synchronized void viewUpdated(long revision, View view) {
    if (!applying()) {
      return;
    }
    Map<String, View> viewsOfMe = new HashMap<>(state.viewsOfMe());
    if (view.subjectClusterId().equals(self) && acceptable(revision, view)) {
      viewsOfMe.put(view.observerClusterId(), view);
    }
    commit(state.withViewsOfMe(viewsOfMe).atRevision(pendingMeshUid, revision));
  }

  @Override
  public synchronized void viewRemoved(long revision, String observerClusterId, String subjectClusterId) {
    if (!applying()) {
      return;
    }
    Map<String, View> viewsOfMe = new HashMap<>(state.viewsOfMe());
    if (subjectClusterId.equals(self)) {
      viewsOfMe.remove(observerClusterId);
    }
    commit(state.withViewsOfMe(viewsOfMe).atRevision(pendingMeshUid, revision));
  }

  @Override
  public synchronized void caughtUp(long revision) {
    if (!applying()) {
      return;
    }
    caughtUp = true;
    if (revision > state.revision()) {
      commit(state.atRevision(pendingMeshUid, revision));
    } else {
      onChange.accept(state); // nothing new, but the state is now authoritative: the data plane may act
    }
  }

  @Override
  public synchronized void bookmark(long revision) {
    if (applying() && revision > state.revision()) {
      commit(state.atRevision(pendingMeshUid, revision));
    }
  }

  @Override
  public synchronized void malformed(long revision, String problem) {
    malformedEvents++;
    log.warn("hub event rejected revision={} problem=\"{}\"", revision, problem);
  }

  private boolean acceptable(long revision, View view) {
    Optional<String> problem = viewProblem.apply(view);
    if (problem.isPresent()) {
      rejectedViews++;
      log.warn("view rejected observer={} revision={} problem=\"{}\"", view.observerClusterId(), revision,
          problem.get());
      return false;
    }
    return true;
  }

  /** Whether stream events may change the state: not held, and no announced snapshot missing. */
  private boolean applying() {
    return held.isEmpty() && !awaitingSnapshot;
  }

  private void hold(String reason) {
    if (held.isEmpty()) {
      log.warn("not applying hub state reason=\"{}\" action=\"restart the agent with --accept-hub-state to take it\"",
          reason);
    }
    held = Optional.of(reason);
  }

  private void commit(AgentState next) {
    try {
      state = file.save(next);
    } catch (IOException e) {
      // Keep going on the in-memory state: the data plane matters more than the file. The next
      // change retries the write; the error is visible in logs and metrics.
      log.error("state file write failed file={} error=\"{}\"", file.path(), e.toString());
      stateWriteErrors++;
      state = next;
    }
    onChange.accept(state);
  }
}
