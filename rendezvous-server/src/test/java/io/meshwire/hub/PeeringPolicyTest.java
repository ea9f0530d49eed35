package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.certs.Role;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.ApplyPolicyRequest;
import io.meshwire.proto.admin.v1.ApplyPolicyResponse;
import io.meshwire.proto.admin.v1.DeletePolicyRequest;
import io.meshwire.proto.admin.v1.ExplainPeeringRequest;
import io.meshwire.proto.admin.v1.ExplainPeeringResponse;
import io.meshwire.proto.admin.v1.GetClusterRequest;
import io.meshwire.proto.admin.v1.ListPoliciesRequest;
import io.meshwire.proto.admin.v1.ListPoliciesResponse;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.SetClusterLabelsRequest;
import io.meshwire.proto.policy.v1.LabelRequirement;
import io.meshwire.proto.policy.v1.PeeringMode;
import io.meshwire.proto.policy.v1.PeeringPolicy;
import io.meshwire.proto.policy.v1.Selector;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import io.meshwire.proto.rendezvous.v1.PeersChanged;
import io.meshwire.proto.rendezvous.v1.PublishViewsRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peering policy end to end in one process: a real hub over TLS on 127.0.0.1, agents' Watch
 * streams, the admin API. Two env groups (prod: p1 p2; dev: d1) and a cluster everyone reaches
 * (shared). {@code EtcdPeeringPolicyIT} runs the same cases on two replicas sharing etcd.
 */
class PeeringPolicyTest {

  private static final List<String> FOUR = List.of("p1", "p2", "d1", "shared");

  @TempDir Path data;

  /** The hub the agents use (enroll, announce, watch, restart). */
  private HubFixture hub;
  private final Map<String, TlsCredentials> creds = new HashMap<>();
  private final Map<String, Long> generations = new HashMap<>();
  private final List<WatchRecorder> recorders = new ArrayList<>();

  @AfterEach
  void close() {
    recorders.forEach(WatchRecorder::close);
    if (hub != null) {
      hub.close();
    }
  }

  /** Starts the hub(s) with {@code settings} and returns the one the agents use. */
  protected HubFixture startHub(Path data, Map<String, String> settings) throws Exception {
    return new HubFixture(data, settings);
  }

  /** The hub the operator's admin calls go to. */
  protected HubFixture adminHub() {
    return hub;
  }

  private void start(Map<String, String> settings) throws Exception {
    hub = startHub(data, settings);
    join("p1", 1, Map.of("env", "prod"));
    join("p2", 2, Map.of("env", "prod"));
    join("d1", 3, Map.of("env", "dev"));
    join("shared", 4, Map.of("env", "shared"));
  }

  /** Enrolls a cluster through a join token that carries its labels, and announces its record. */
  private void join(String id, int n, Map<String, String> labels) {
    admin().createJoinToken(io.meshwire.proto.admin.v1.CreateJoinTokenRequest.newBuilder().setClusterId(id)
        .putAllLabels(labels).build());
    creds.put(id, hub.issue(Role.CLUSTER, id));
    generations.put(id, (long) n * 100);
    announce(id);
  }

  private long announce(String id) {
    long g = generations.merge(id, 1L, Long::sum);
    int n = (int) (g / 100);
    return RendezvousGrpc.newBlockingStub(hub.channel(creds.get(id)))
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record(id, n, g)).build()).getRevision();
  }

  private MeshAdminGrpc.MeshAdminBlockingStub admin() {
    return MeshAdminGrpc.newBlockingStub(adminHub().channel(adminHub().admin()));
  }

  private WatchRecorder watch(String id, long since) {
    WatchRecorder w = new WatchRecorder(hub.channel(creds.get(id)), since, "");
    recorders.add(w);
    return w;
  }

  private Map<String, WatchRecorder> watchAll() {
    Map<String, WatchRecorder> out = new LinkedHashMap<>();
    for (String id : FOUR) {
      WatchRecorder w = watch(id, 0);
      w.awaitCaughtUp();
      out.put(id, w);
    }
    return out;
  }

  private static Selector labels(String key, String value) {
    return Selector.newBuilder().putMatchLabels(key, value).build();
  }

  private static Selector names(String... names) {
    return Selector.newBuilder().addAllNames(List.of(names)).build();
  }

  private static PeeringPolicy policy(String name, Selector clusters, Selector peers, PeeringMode mode) {
    return PeeringPolicy.newBuilder().setName(name).setClusters(clusters).setPeers(peers).setMode(mode).build();
  }

  private ApplyPolicyResponse apply(PeeringPolicy p) {
    return admin().applyPolicy(ApplyPolicyRequest.newBuilder().setPolicy(p).build());
  }

  /** prod with prod, dev with dev, everyone with shared. */
  private long applyGroups() {
    apply(policy("prod", labels("env", "prod"), labels("env", "prod"), PeeringMode.PEERING_MODE_DIRECT));
    apply(policy("dev", labels("env", "dev"), labels("env", "dev"), PeeringMode.PEERING_MODE_DIRECT));
    apply(policy("to-shared", Selector.getDefaultInstance(), names("shared"), PeeringMode.PEERING_MODE_DIRECT));
    return apply(policy("from-shared", names("shared"), Selector.getDefaultInstance(),
        PeeringMode.PEERING_MODE_DIRECT)).getRevision();
  }

  /**
   * Runs {@code change}, then has every cluster of {@code watchers} announce itself (its own record
   * comes back on its own stream, after anything the change sent it: the stream is ordered) and
   * returns what each received in between: its PeersChanged deltas as (upserted, removed) ids.
   */
  private Map<String, List<Delta>> after(Map<String, WatchRecorder> watchers, Runnable change) {
    Map<String, Integer> mark = new HashMap<>();
    watchers.forEach((id, r) -> mark.put(id, r.events.size()));
    change.run();
    Map<String, Long> markers = new HashMap<>();
    watchers.keySet().forEach(id -> markers.put(id, generations.get(id) + 1));
    watchers.keySet().forEach(this::announce);
    Map<String, List<Delta>> out = new TreeMap<>();
    watchers.forEach((id, w) -> {
      long gen = markers.get(id);
      w.await(e -> isUpsertOf(e, id, gen));
      List<Delta> deltas = new ArrayList<>();
      for (WatchEvent e : w.events.subList(mark.get(id), w.events.size())) {
        if (isUpsertOf(e, id, gen)) {
          break;
        }
        assertTrue(!e.hasClusterRemoved() && !e.hasSnapshot(), id + ": unexpected " + e);
        if (e.hasPeersChanged()) {
          deltas.add(delta(ids(e.getPeersChanged().getUpsertedList()), new TreeSet<>(e.getPeersChanged().getRemovedList())));
        }
      }
      out.put(id, deltas);
    });
    return out;
  }

  private static boolean isUpsertOf(WatchEvent e, String id, long generation) {
    return e.hasClusterUpserted() && e.getClusterUpserted().getRecord().getClusterId().equals(id)
        && e.getClusterUpserted().getRecord().getGeneration() == generation;
  }

  /** The peers a watcher holds after everything it received (snapshot, upserts, removals, deltas). */
  private static Map<String, PeeringMode> peersHeld(WatchRecorder w, String self) {
    Map<String, PeeringMode> peers = new TreeMap<>();
    for (WatchEvent e : w.events) {
      switch (e.getEventCase()) {
        case SNAPSHOT -> {
          if (e.getSnapshot().getIndex() == 0) {
            peers.clear();
          }
          e.getSnapshot().getClustersList().forEach(r -> peers.put(r.getClusterId(), mode(r)));
        }
        case CLUSTER_UPSERTED -> peers.put(e.getClusterUpserted().getRecord().getClusterId(),
            mode(e.getClusterUpserted().getRecord()));
        case CLUSTER_REMOVED -> peers.remove(e.getClusterRemoved().getClusterId());
        case PEERS_CHANGED -> {
          e.getPeersChanged().getUpsertedList().forEach(r -> peers.put(r.getClusterId(), mode(r)));
          e.getPeersChanged().getRemovedList().forEach(peers::remove);
        }
        default -> { }
      }
    }
    peers.remove(self);
    return peers;
  }

  /** {@code held} after applying a resumed stream's upserts, removals and deltas in order. */
  private static Map<String, PeeringMode> fold(Map<String, PeeringMode> held, WatchRecorder w) {
    Map<String, PeeringMode> peers = new TreeMap<>(held);
    for (WatchEvent e : w.events) {
      if (e.hasClusterUpserted()) {
        peers.put(e.getClusterUpserted().getRecord().getClusterId(), mode(e.getClusterUpserted().getRecord()));
      } else if (e.hasClusterRemoved()) {
        peers.remove(e.getClusterRemoved().getClusterId());
      } else if (e.hasPeersChanged()) {
        e.getPeersChanged().getUpsertedList().forEach(r -> peers.put(r.getClusterId(), mode(r)));
        e.getPeersChanged().getRemovedList().forEach(peers::remove);
      }
    }
    peers.remove("p1");
    return peers;
  }

  private static PeeringMode mode(ClusterRecord r) {
    return r.getPeeringMode() == PeeringMode.PEERING_MODE_UNSPECIFIED ? PeeringMode.PEERING_MODE_DIRECT
        : r.getPeeringMode();
  }

  private static Map<String, PeeringMode> direct(String... ids) {
    Map<String, PeeringMode> out = new TreeMap<>();
    for (String id : ids) {
      out.put(id, PeeringMode.PEERING_MODE_DIRECT);
    }
    return out;
  }

  private static Set<String> ids(List<ClusterRecord> records) {
    Set<String> out = new TreeSet<>();
    records.forEach(r -> out.add(r.getClusterId()));
    return out;
  }

  @Test
  void eachKindOfChangeSendsEachAffectedAgentOnlyItsGainsAndLossesAtOneRevision() throws Exception {
    start(Map.of());
    Map<String, WatchRecorder> w = watchAll();
    for (String id : FOUR) {
      assertEquals(3, peersHeld(w.get(id), id).size(), "full mesh before any policy");
    }

    // Policies added (four, one after the other): the env groups and shared remain.
    after(w, this::applyGroups);
    assertEquals(direct("p2", "shared"), peersHeld(w.get("p1"), "p1"));
    assertEquals(direct("shared"), peersHeld(w.get("d1"), "d1"));
    assertEquals(direct("p1", "p2", "d1"), peersHeld(w.get("shared"), "shared"));

    // Label changed: p2 moves from prod to dev. One delta per affected agent; shared gets nothing.
    assertEquals(Map.of("p1", List.of(delta(Set.of(), Set.of("p2"))),
        "p2", List.of(delta(Set.of("d1"), Set.of("p1"))),
        "d1", List.of(delta(Set.of("p2"), Set.of())),
        "shared", List.of()), after(w, () -> labels("p2", Map.of("env", "dev"), List.of())));

    // Label removed: p2 has no env, only to-shared speaks for it: it keeps shared, loses d1.
    assertEquals(Map.of("p1", List.of(), "p2", List.of(delta(Set.of(), Set.of("d1"))),
        "d1", List.of(delta(Set.of(), Set.of("p2"))), "shared", List.of()),
        after(w, () -> labels("p2", Map.of(), List.of("env"))));

    // Policy changed: from-shared becomes relay-only: everyone takes shared again, in the new mode.
    Map<String, List<Delta>> relay = after(w, () -> apply(policy("from-shared", names("shared"),
        Selector.getDefaultInstance(), PeeringMode.PEERING_MODE_RELAY_ONLY)));
    for (String id : List.of("p1", "p2", "d1")) {
      assertEquals(List.of(delta(Set.of("shared"), Set.of())), relay.get(id), id);
      assertEquals(PeeringMode.PEERING_MODE_RELAY_ONLY, peersHeld(w.get(id), id).get("shared"));
    }
    assertEquals(Set.of("p1", "p2", "d1"), relay.get("shared").get(0).upserted());
    // Announces after the change reach shared in the relay-only form.
    long p1Generation = generations.get("p1");
    assertEquals(PeeringMode.PEERING_MODE_RELAY_ONLY, w.get("shared").await(e -> isUpsertOf(e, "p1", p1Generation))
        .getClusterUpserted().getRecord().getPeeringMode());

    // Policy deleted: without to-shared, p1 and d1 no longer consent towards shared; p2 (spoken
    // for by no allow policy now) falls back to the default and keeps it.
    assertEquals(Map.of("p1", List.of(delta(Set.of(), Set.of("shared"))), "p2", List.of(),
        "d1", List.of(delta(Set.of(), Set.of("shared"))), "shared", List.of(delta(Set.of(), Set.of("p1", "d1")))),
        after(w, () -> admin().deletePolicy(DeletePolicyRequest.newBuilder().setName("to-shared").build())));

    // A cluster joins: only the clusters its policies allow (d1) see its record.
    join("d2", 5, Map.of("env", "dev"));
    after(w, () -> { });
    assertTrue(w.get("d1").events.stream().anyMatch(e -> isUpsertOf(e, "d2", generations.get("d2"))));
    for (String id : List.of("p1", "p2", "shared")) {
      assertTrue(w.get(id).events.stream().noneMatch(e -> e.hasClusterUpserted()
          && e.getClusterUpserted().getRecord().getClusterId().equals("d2")), id + " never sees d2");
    }
    for (String id : FOUR) {
      assertEquals(expectedPeers(id), peersHeld(w.get(id), id).keySet(), id + " holds exactly its allowed peers");
    }
  }

  private void labels(String id, Map<String, String> set, List<String> remove) {
    admin().setClusterLabels(SetClusterLabelsRequest.newBuilder().setClusterId(id).putAllSet(set).addAllRemove(remove)
        .build());
  }

  /** The peers the hub's own explain says each cluster has now (cross-check of the stream). */
  private Set<String> expectedPeers(String id) {
    Set<String> out = new TreeSet<>();
    for (String other : List.of("p1", "p2", "d1", "d2", "shared")) {
      if (!other.equals(id) && admin().explainPeering(ExplainPeeringRequest.newBuilder().setClusterA(id)
          .setClusterB(other).build()).getMode() != PeeringMode.PEERING_MODE_DENY) {
        out.add(other);
      }
    }
    return out;
  }

  private record Delta(Set<String> upserted, Set<String> removed) {}

  private static Delta delta(Set<String> upserted, Set<String> removed) {
    return new Delta(upserted, removed);
  }

  @Test
  void resumeAndSnapshotsCarryExactlyTheAllowedPeersAlsoAfterRestartAndCheckpoint() throws Exception {
    start(Map.of("retained-entries", "16", "checkpoint-interval", "8", "announce-rate", "1000/1s"));
    WatchRecorder first = watch("p1", 0);
    long resumeFrom = first.awaitCaughtUp().getRevision();
    first.close();
    applyGroups();

    // Resumed across the policy change: the missed deltas, no snapshot.
    WatchRecorder resumed = watch("p1", resumeFrom);
    resumed.awaitCaughtUp();
    assertTrue(resumed.ofCase(WatchEvent.EventCase.SNAPSHOT).isEmpty());
    assertEquals(direct("p2", "shared"), fold(direct("p2", "d1", "shared"), resumed));

    // A snapshot per agent holds exactly its peers (and itself).
    Map<String, Set<String>> expected = Map.of("p1", Set.of("p1", "p2", "shared"), "p2", Set.of("p1", "p2", "shared"),
        "d1", Set.of("d1", "shared"), "shared", Set.of("p1", "p2", "d1", "shared"));
    assertSnapshots(expected, false);

    // Enough announces to checkpoint (the rules are in the checkpoint) and pass the log's floor.
    for (int i = 0; i < 40; i++) {
      announce("shared");
    }
    hub.restart();
    assertSnapshots(expected, true);
    assertEquals(4, admin().listPolicies(ListPoliciesRequest.getDefaultInstance()).getPoliciesCount());
    assertEquals(Map.of("env", "prod"), admin().getCluster(GetClusterRequest.newBuilder().setClusterId("p1").build())
        .getLabelsMap());
  }

  /**
   * A new watcher of each cluster ends caught up with exactly its peers. A hub may serve a recent
   * cached snapshot followed by the deltas since; a fresh one ({@code fresh}) serves the current
   * image, whose records are then exactly the allowed ones.
   */
  private void assertSnapshots(Map<String, Set<String>> expected, boolean fresh) {
    for (String id : FOUR) {
      try (WatchRecorder w = new WatchRecorder(hub.channel(creds.get(id)), 0, "")) {
        w.awaitCaughtUp();
        Set<String> held = new TreeSet<>(peersHeld(w, id).keySet());
        held.add(id);
        assertEquals(new TreeSet<>(expected.get(id)), held, id);
        if (fresh) {
          Set<String> inSnapshot = new TreeSet<>();
          w.ofCase(WatchEvent.EventCase.SNAPSHOT).forEach(e -> inSnapshot.addAll(ids(e.getSnapshot().getClustersList())));
          assertEquals(new TreeSet<>(expected.get(id)), inSnapshot, id + " snapshot");
        }
      }
    }
  }

  @Test
  void badInputIsRefusedNamingTheFieldAndChangesNothing() throws Exception {
    start(Map.of());
    applyGroups();
    Map<String, WatchRecorder> w = watchAll();
    ListPoliciesResponse before = admin().listPolicies(ListPoliciesRequest.getDefaultInstance());
    Map<String, List<Delta>> refused = after(w, () -> refuseBadInput());
    assertEquals(Map.of("p1", List.of(), "p2", List.of(), "d1", List.of(), "shared", List.of()), refused,
        "no agent received anything");
    assertEquals(before.getPoliciesList(), admin().listPolicies(ListPoliciesRequest.getDefaultInstance())
        .getPoliciesList(), "nothing changed");
    assertTrue(admin().listJoinTokens(io.meshwire.proto.admin.v1.ListJoinTokensRequest.getDefaultInstance())
        .getTokensList().stream().noneMatch(t -> t.getClusterId().equals("new1")), "no token for refused labels");

    // With force, the operator gets what they asked for: every agent loses every peer.
    admin().applyPolicy(ApplyPolicyRequest.newBuilder().setPolicy(ISOLATE_ALL).setForce(true).build());
    for (String id : FOUR) {
      WatchRecorder r = w.get(id);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> peersHeld(r, id).isEmpty());
    }
  }

  private static final PeeringPolicy ISOLATE_ALL = policy("deny-all", Selector.getDefaultInstance(),
      Selector.getDefaultInstance(), PeeringMode.PEERING_MODE_DENY);

  private void refuseBadInput() {

    assertRefused(Status.Code.INVALID_ARGUMENT, "policy.clusters.matchLabels key: \"-env\"", () -> apply(policy("x",
        labels("-env", "prod"), Selector.getDefaultInstance(), PeeringMode.PEERING_MODE_DIRECT)));
    assertRefused(Status.Code.INVALID_ARGUMENT, "policy.peers.matchExpressions[0].operator: \"Into\"", () -> apply(
        policy("x", Selector.getDefaultInstance(), Selector.newBuilder().addMatchExpressions(LabelRequirement.newBuilder()
            .setKey("env").setOperator("Into").addValues("a")).build(), PeeringMode.PEERING_MODE_DIRECT)));
    assertRefused(Status.Code.INVALID_ARGUMENT, "policy.mode: must be direct, relay-only or deny", () -> apply(
        policy("x", Selector.getDefaultInstance(), Selector.getDefaultInstance(), PeeringMode.PEERING_MODE_UNSPECIFIED)));
    assertRefused(Status.Code.INVALID_ARGUMENT, "policy.name: \"Not_A_Name\"", () -> apply(
        policy("Not_A_Name", Selector.getDefaultInstance(), Selector.getDefaultInstance(), PeeringMode.PEERING_MODE_DENY)));
    assertRefused(Status.Code.INVALID_ARGUMENT, "set[env]: \"prod!\"", () -> admin().setClusterLabels(
        SetClusterLabelsRequest.newBuilder().setClusterId("p1").putSet("env", "prod!").build()));
    assertRefused(Status.Code.NOT_FOUND, "cluster_id: \"nosuch\"", () -> admin().setClusterLabels(
        SetClusterLabelsRequest.newBuilder().setClusterId("nosuch").putSet("env", "prod").build()));
    assertRefused(Status.Code.INVALID_ARGUMENT, "labels[team]: \"a b\"", () -> admin().createJoinToken(
        io.meshwire.proto.admin.v1.CreateJoinTokenRequest.newBuilder().setClusterId("new1").putLabels("team", "a b")
            .build()));
    assertRefused(Status.Code.NOT_FOUND, "name: policy \"nosuch\" does not exist",
        () -> admin().deletePolicy(DeletePolicyRequest.newBuilder().setName("nosuch").build()));
    assertRefused(Status.Code.FAILED_PRECONDITION, "would isolate every cluster", () -> apply(ISOLATE_ALL));
  }

  @Test
  void aViewIsServedOnlyWhileItsPairMayPeerAndComesBackWithThePeer() throws Exception {
    start(Map.of());
    applyGroups();
    publishView("p1", "p2", 1);
    WatchRecorder p2 = watch("p2", 0);
    p2.awaitCaughtUp();
    assertEquals(Map.of("p1", 1L), viewsHeld(p2), "p1 and p2 peer: p2 gets p1's view of it");

    // Split (p2 moves to dev): p2 drops p1 and its view; p1 updates the view while the pair is split.
    labels("p2", Map.of("env", "dev"), List.of());
    publishView("p1", "p2", 2);
    awaitOwnAnnounce(p2, "p2");
    assertEquals(Map.of(), viewsHeld(p2), "a split pair's view is not served on the stream");
    assertTrue(p2.ofCase(WatchEvent.EventCase.VIEW_UPDATED).isEmpty(), "the update while split was not sent");
    try (WatchRecorder fresh = watch("p2", 0)) {
      fresh.awaitCaughtUp();
      assertEquals(Map.of(), viewsHeld(fresh), "nor in a snapshot");
    }

    // Together again: p2's delta brings p1 back with the view the hub kept (the newest one).
    labels("p2", Map.of("env", "prod"), List.of());
    PeersChanged back = p2.await(e -> e.hasPeersChanged() && ids(e.getPeersChanged().getUpsertedList()).contains("p1"))
        .getPeersChanged();
    assertEquals(List.of("p1"), back.getViewsList().stream().map(v -> v.getObserverClusterId()).toList());
    assertEquals(2, back.getViews(0).getGeneration());
    assertEquals(Map.of("p1", 2L), viewsHeld(p2));
    try (WatchRecorder fresh = watch("p2", 0)) {
      fresh.awaitCaughtUp();
      assertEquals(Map.of("p1", 2L), viewsHeld(fresh));
    }

    // Split, the observer withdraws its view meanwhile, together again: nothing comes back.
    labels("p2", Map.of("env", "dev"), List.of());
    RendezvousGrpc.newBlockingStub(hub.channel(creds.get("p1"))).publishViews(PublishViewsRequest.newBuilder()
        .addWithdrawnSubjectClusterIds("p2").build());
    labels("p2", Map.of("env", "prod"), List.of());
    awaitOwnAnnounce(p2, "p2");
    assertEquals(Map.of(), viewsHeld(p2));
    assertEquals(direct("p1", "shared"), peersHeld(p2, "p2"));
  }

  /** p1's remapping of {@code subject}'s pod CIDR (cluster 2's), at {@code generation}. */
  private void publishView(String observer, String subject, long generation) {
    RendezvousGrpc.newBlockingStub(hub.channel(creds.get(observer))).publishViews(PublishViewsRequest.newBuilder()
        .addViews(PeerView.newBuilder().setSubjectClusterId(subject).setGeneration(generation)
            .addMappings(CidrMapping.newBuilder().setOriginal("10.2.0.0/16").setSeenAs("10.99.0.0/16")))
        .build());
  }

  /** Announces {@code id} and waits for its record on its own stream: everything sent before has arrived. */
  private void awaitOwnAnnounce(WatchRecorder w, String id) {
    announce(id);
    long generation = generations.get(id);
    w.await(e -> isUpsertOf(e, id, generation));
  }

  /** The views of a watcher's cluster it holds after everything received, as the agent keeps them: observer to generation. */
  private static Map<String, Long> viewsHeld(WatchRecorder w) {
    Map<String, Long> views = new TreeMap<>();
    for (WatchEvent e : w.events) {
      switch (e.getEventCase()) {
        case SNAPSHOT -> {
          if (e.getSnapshot().getIndex() == 0) {
            views.clear();
          }
          e.getSnapshot().getViewsList().forEach(v -> views.put(v.getObserverClusterId(), v.getGeneration()));
        }
        case VIEW_UPDATED -> views.put(e.getViewUpdated().getView().getObserverClusterId(),
            e.getViewUpdated().getView().getGeneration());
        case VIEW_REMOVED -> views.remove(e.getViewRemoved().getObserverClusterId());
        case CLUSTER_REMOVED -> views.remove(e.getClusterRemoved().getClusterId());
        case PEERS_CHANGED -> {
          e.getPeersChanged().getRemovedList().forEach(views::remove);
          e.getPeersChanged().getViewsList().forEach(v -> views.put(v.getObserverClusterId(), v.getGeneration()));
        }
        default -> { }
      }
    }
    return views;
  }

  @Test
  void explainNamesLabelsAndPoliciesOfBothDirections() throws Exception {
    start(Map.of());
    applyGroups();
    ExplainPeeringResponse no = admin().explainPeering(ExplainPeeringRequest.newBuilder().setClusterA("p1")
        .setClusterB("d1").build());
    assertEquals(PeeringMode.PEERING_MODE_DENY, no.getMode());
    assertEquals(Map.of("env", "prod"), no.getLabelsAMap());
    assertEquals(Map.of("env", "dev"), no.getLabelsBMap());
    assertEquals("allow", no.getDefaultPeering());
    assertTrue(no.getReasonsList().contains("p1 -> d1: not allowed: p1 is selected by prod, to-shared, none of which "
        + "selects d1"), no.getReasonsList().toString());
    ExplainPeeringResponse yes = admin().explainPeering(ExplainPeeringRequest.newBuilder().setClusterA("d1")
        .setClusterB("shared").build());
    assertEquals(PeeringMode.PEERING_MODE_DIRECT, yes.getMode());
    assertTrue(yes.getReasonsList().contains("shared -> d1: allowed by from-shared (direct)"), yes.getReasonsList().toString());
  }

  private static void assertRefused(Status.Code code, String text, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.getMessage());
    assertTrue(e.getStatus().getDescription().contains(text), e.getStatus().getDescription());
  }
}
