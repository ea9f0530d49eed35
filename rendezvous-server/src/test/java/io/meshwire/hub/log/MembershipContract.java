package io.meshwire.hub.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.hub.HubFixture;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.RemovalReason;
import io.meshwire.hub.membership.MembershipEvent.ViewRemoved;
import io.meshwire.hub.membership.MembershipEvent.ViewUpdated;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.hub.policy.PeeringPolicy;
import io.meshwire.hub.policy.Selector;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.netaddr.Cidr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code MembershipContract}: what every {@link Membership} does, whatever keeps it (the file log,
 * etcd). Subclasses say how to open a fresh, empty one.
 */
public abstract class MembershipContract {

  protected Membership membership;

  /** A fresh, empty membership; closed after each test. */
  protected abstract Membership open() throws Exception;

  @BeforeEach
  void openMembership() throws Exception {
    membership = open();
  }

  @AfterEach
  void closeMembership() {
    if (membership != null) {
      membership.close();
    }
  }

  protected static ClusterRecord record(String id, int n, long generation) throws Rejection {
    return ProtoMapper.fromProto(io.meshwire.validation.WireValidator.defaults(), HubFixture.record(id, n, generation), id);
  }

  protected static PeerView view(String observer, String subject, long generation) {
    return new PeerView(observer, subject,
        List.of(new PeerView.Mapping(Cidr.parse("10.2.0.0/16"), Cidr.parse("172.16.0.0/16"))), generation);
  }

  protected long upsert(String id, int n, long generation) throws Exception {
    return membership.upsert(record(id, n, generation)).get(10, TimeUnit.SECONDS);
  }

  @Test
  void aWireGuardKeyHeldByAnotherClusterIsAlreadyExistsAndChangesNothing() throws Exception {
    upsert("east", 1, 1);
    long before = membership.durableRevision();
    ClusterRecord copied = ProtoMapper.fromProto(io.meshwire.validation.WireValidator.defaults(),
        HubFixture.record("west", 2, 1).toBuilder()
            .setWireguardPublicKey(HubFixture.record("east", 1, 1).getWireguardPublicKey()).build(), "west");
    Rejection refused = assertThrows(Rejection.class, () -> membership.upsert(copied));
    assertEquals(Rejection.Kind.ALREADY_EXISTS, refused.kind());
    assertTrue(refused.getMessage().contains("already held by cluster \"east\""), refused.getMessage());
    assertEquals(before, membership.durableRevision());
    upsert("east", 1, 2); // east moves to another key: the old one is free
    membership.upsert(copied).get(10, TimeUnit.SECONDS);
  }

  /** Every entry after {@code after}, read batch by batch as the fan-out does. */
  protected List<LogEntry> entriesAfter(long after) {
    List<LogEntry> all = new ArrayList<>();
    long cursor = after;
    for (int i = 0; i < 1000; i++) {
      List<LogEntry> batch = membership.readAfter(cursor, 2).orElseThrow();
      if (batch.isEmpty()) {
        return all;
      }
      all.addAll(batch);
      cursor = batch.get(batch.size() - 1).revision();
    }
    throw new AssertionError("readAfter did not end");
  }

  @Test
  void anAcceptedRecordIsReadBackWithTheRevisionItWasStoredAt() throws Exception {
    long revision = upsert("east", 1, 1);
    ClusterRecord stored = membership.cluster("east").orElseThrow();
    assertEquals(1, stored.generation());
    assertEquals(revision, stored.revision());
    assertTrue(membership.durableRevision() >= revision);
    assertEquals(List.of("east"), membership.clusters().stream().map(ClusterRecord::clusterId).toList());
  }

  @Test
  void revisionsGrowWithEveryChange() throws Exception {
    long a = upsert("east", 1, 1);
    long b = upsert("west", 2, 1);
    long c = upsert("east", 1, 2);
    assertTrue(a < b && b < c, a + " < " + b + " < " + c);
  }

  @Test
  void aGenerationThatDoesNotGrowIsRefusedAndChangesNothing() throws Exception {
    upsert("east", 1, 5);
    long before = membership.durableRevision();
    Rejection same = assertThrows(Rejection.class, () -> membership.upsert(record("east", 1, 5)));
    assertEquals(Rejection.Kind.FAILED_PRECONDITION, same.kind());
    assertTrue(same.getMessage().contains("record.generation: 5 is not greater than the stored generation 5"),
        same.getMessage());
    assertThrows(Rejection.class, () -> membership.upsert(record("east", 1, 4)));
    assertEquals(5, membership.cluster("east").orElseThrow().generation());
    assertTrue(entriesAfter(before).isEmpty(), "a refused write leaves no entry");
  }

  @Test
  void aViewOfANonMemberIsRefused() throws Exception {
    upsert("east", 1, 1);
    Rejection r = assertThrows(Rejection.class,
        () -> membership.publishViews("east", List.of(view("east", "ghost", 1)), List.of()));
    assertEquals(Rejection.Kind.FAILED_PRECONDITION, r.kind());
    assertTrue(r.getMessage().contains("views[0].subject_cluster_id: \"ghost\" is not a member"), r.getMessage());
  }

  @Test
  void viewGenerationsOnlyGrowAndViewsGoToTheirSubjectOnly() throws Exception {
    upsert("east", 1, 1);
    long base = upsert("west", 2, 1);
    long revision = membership.publishViews("east", List.of(view("east", "west", 1)), List.of())
        .get(10, TimeUnit.SECONDS);
    assertTrue(revision > base);
    assertThrows(Rejection.class, () -> membership.publishViews("east", List.of(view("east", "west", 1)), List.of()));
    List<LogEntry> entries = entriesAfter(base);
    assertEquals(1, entries.size());
    LogEntry e = entries.get(0);
    assertTrue(e.event() instanceof ViewUpdated);
    assertTrue(e.isFor("west"));
    assertFalse(e.isFor("east"));
    assertEquals(List.of(view("east", "west", 1)), membership.image().viewsFor("west"));
  }

  @Test
  void aWithdrawnViewIsRemovedForItsSubject() throws Exception {
    upsert("east", 1, 1);
    upsert("west", 2, 1);
    long published = membership.publishViews("east", List.of(view("east", "west", 1)), List.of())
        .get(10, TimeUnit.SECONDS);
    membership.publishViews("east", List.of(), List.of("west")).get(10, TimeUnit.SECONDS);
    List<LogEntry> entries = entriesAfter(published);
    assertEquals(List.of(new ViewRemoved(new PeerView.Key("east", "west"))),
        entries.stream().map(LogEntry::event).toList());
    assertTrue(membership.image().viewsFor("west").isEmpty());
  }

  @Test
  void aRemovalTakesTheClustersViewsAlongAndSaysWhy() throws Exception {
    upsert("east", 1, 1);
    upsert("west", 2, 1);
    upsert("north", 3, 1);
    membership.publishViews("east", List.of(view("east", "west", 1)), List.of()).get(10, TimeUnit.SECONDS);
    long before = membership.publishViews("west", List.of(view("west", "east", 1), view("west", "north", 1)),
        List.of()).get(10, TimeUnit.SECONDS);
    long removed = membership.remove("east", RemovalReason.REVOKED).get(10, TimeUnit.SECONDS);
    assertTrue(removed > before);
    assertTrue(membership.cluster("east").isEmpty());
    SnapshotImage image = membership.image();
    assertTrue(image.viewsFor("west").isEmpty(), "east's view of west went with east");
    assertTrue(image.viewsFor("east").isEmpty(), "west's view of east went with east");
    assertEquals(List.of(view("west", "north", 1)), image.viewsFor("north"));
    List<MembershipEvent> events = entriesAfter(before).stream().map(LogEntry::event).toList();
    assertEquals(List.of(new ClusterRemoved("east", RemovalReason.REVOKED)), events);
    Rejection again = assertThrows(Rejection.class, () -> membership.remove("east", RemovalReason.REMOVED));
    assertEquals(Rejection.Kind.NOT_FOUND, again.kind());
  }

  @Test
  void changesAreReadBackInRevisionOrderFromAnyResumePoint() throws Exception {
    long start = membership.durableRevision();
    List<Long> revisions = new ArrayList<>();
    for (int g = 1; g <= 6; g++) {
      revisions.add(upsert("c" + (g % 3), g % 3 + 1, g));
    }
    List<LogEntry> all = entriesAfter(start);
    assertEquals(revisions, all.stream().map(LogEntry::revision).toList());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), all.stream()
        .map(e -> ((ClusterUpserted) e.event()).record().generation()).toList());
    List<LogEntry> tail = entriesAfter(revisions.get(3));
    assertEquals(revisions.subList(4, 6), tail.stream().map(LogEntry::revision).toList());
    assertTrue(membership.canResumeFrom(revisions.get(3)));
    assertFalse(membership.canResumeFrom(0));
  }

  @Test
  void durableListenersHearOfEveryAdvance() throws Exception {
    List<Long> heard = new CopyOnWriteArrayList<>();
    membership.onDurable(heard::add);
    long revision = upsert("east", 1, 1);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> heard.stream().anyMatch(r -> r >= revision));
  }

  // ---- peering rules: the same per-agent deltas on every store ---------------------------------

  private static final List<String> FOUR = List.of("p1", "p2", "d1", "shared");

  protected Membership.PeeringResult change(PeeringChange change) throws Exception {
    return membership.changePeering(change, false).get(10, TimeUnit.SECONDS);
  }

  protected static PeeringPolicy policy(String name, Selector clusters, Selector peers, PeeringMode mode) {
    try {
      return PeeringPolicy.of("name", name, clusters, peers, mode);
    } catch (Rejection e) {
      throw new AssertionError(e);
    }
  }

  private static Selector env(String value) {
    return new Selector(Set.of(), Map.of("env", value), List.of());
  }

  private static Selector named(String... names) {
    return new Selector(Set.of(names), Map.of(), List.of());
  }

  /** p1, p2 (env=prod), d1 (env=dev), shared: prod with prod, dev with dev, everyone with shared. */
  protected void envGroupsAndShared() throws Exception {
    for (int i = 0; i < FOUR.size(); i++) {
      upsert(FOUR.get(i), i + 1, 1);
    }
    change(new PeeringChange.SetLabels("p1", Map.of("env", "prod")));
    change(new PeeringChange.SetLabels("p2", Map.of("env", "prod")));
    change(new PeeringChange.SetLabels("d1", Map.of("env", "dev")));
    change(new PeeringChange.SetLabels("shared", Map.of("env", "shared")));
    change(new PeeringChange.ApplyPolicy(policy("prod", env("prod"), env("prod"), PeeringMode.DIRECT)));
    change(new PeeringChange.ApplyPolicy(policy("dev", env("dev"), env("dev"), PeeringMode.DIRECT)));
    change(new PeeringChange.ApplyPolicy(policy("to-shared", Selector.all(), named("shared"), PeeringMode.DIRECT)));
    change(new PeeringChange.ApplyPolicy(policy("from-shared", named("shared"), Selector.all(), PeeringMode.DIRECT)));
  }

  /**
   * What each agent was sent after {@code after}, as one line per PeersChanged ("+id" gained,
   * "-id" lost, sorted), asserting each went to its agent only and all share one revision.
   */
  protected Map<String, List<String>> deltasAfter(long after) {
    Map<String, List<String>> out = new TreeMap<>();
    Set<Long> revisions = new java.util.TreeSet<>();
    for (LogEntry e : entriesAfter(after)) {
      if (!(e.event() instanceof MembershipEvent.PeersChanged p)) {
        continue;
      }
      revisions.add(e.revision());
      for (String id : List.of("p1", "p2", "d1", "d2", "shared")) {
        assertEquals(id.equals(p.agent()), e.isFor(id), "delta for " + p.agent() + " seen by " + id);
      }
      List<String> line = new ArrayList<>();
      p.upserted().forEach(peer -> line.add("+" + peer.record().clusterId()
          + (peer.mode() == PeeringMode.RELAY_ONLY ? "(relay-only)" : "")));
      p.removed().forEach(id -> line.add("-" + id));
      java.util.Collections.sort(line);
      out.computeIfAbsent(p.agent(), k -> new ArrayList<>()).add(String.join(" ", line));
    }
    assertTrue(revisions.size() <= 1, "one revision per change: " + revisions);
    return out;
  }

  @Test
  void aLabelChangeSendsEachAffectedAgentOnlyItsGainsAndLossesAtOneRevision() throws Exception {
    envGroupsAndShared();
    long before = membership.durableRevision();
    Membership.PeeringResult moved = change(new PeeringChange.SetLabels("p2", Map.of("env", "dev")));
    assertEquals(3, moved.affectedAgents());
    assertEquals(Map.of("p1", List.of("-p2"), "p2", List.of("+d1 -p1"), "d1", List.of("+p2")), deltasAfter(before));
    assertEquals(Map.of("env", "dev"), membership.peering().rules().labelsOf("p2"));

    // Labels removed: only to-shared speaks for p2 now; it keeps shared and loses d1.
    before = membership.durableRevision();
    change(new PeeringChange.SetLabels("p2", Map.of()));
    assertEquals(Map.of("p2", List.of("-d1"), "d1", List.of("-p2")), deltasAfter(before));
    assertTrue(membership.peering().rules().labelsOf("p2").isEmpty());

    // The same labels again change nothing and send nothing.
    before = membership.durableRevision();
    assertTrue(change(new PeeringChange.SetLabels("p2", Map.of())).unchanged());
    assertTrue(entriesAfter(before).isEmpty());
  }

  @Test
  void aPolicyChangeSendsTheDeltasOfItsPairsOnlyInTheirNewMode() throws Exception {
    envGroupsAndShared();
    long before = membership.durableRevision();
    change(new PeeringChange.ApplyPolicy(policy("from-shared", named("shared"), Selector.all(), PeeringMode.RELAY_ONLY)));
    assertEquals(Map.of("p1", List.of("+shared(relay-only)"), "p2", List.of("+shared(relay-only)"),
        "d1", List.of("+shared(relay-only)"), "shared", List.of("+d1(relay-only) +p1(relay-only) +p2(relay-only)")),
        deltasAfter(before));

    // A record announced now reaches the others in the mode each may use, d1 never sees p1.
    before = membership.durableRevision();
    upsert("p1", 1, 2);
    List<LogEntry> entries = entriesAfter(before);
    assertTrue(entries.stream().allMatch(e -> e.event() instanceof ClusterUpserted));
    assertEquals(Set.of("p1", "p2"), audience(entries, false));
    assertEquals(Set.of("shared"), audience(entries, true));

    before = membership.durableRevision();
    change(new PeeringChange.DeletePolicy("to-shared"));
    assertEquals(Map.of("p1", List.of("-shared"), "p2", List.of("-shared"), "d1", List.of("-shared"),
        "shared", List.of("-d1 -p1 -p2")), deltasAfter(before));
    assertEquals(Set.of("prod", "dev", "from-shared"), membership.peering().rules().policies().keySet());
    assertEquals(Map.of("p2", PeeringMode.DIRECT), membership.image().peering().peersOf("p1", FOUR));
  }

  /** Who receives {@code entries} with a record in the relay-only form ({@code relayOnly}) or not. */
  private static Set<String> audience(List<LogEntry> entries, boolean relayOnly) {
    Set<String> out = new java.util.TreeSet<>();
    for (LogEntry e : entries) {
      boolean isRelayForm = !java.util.Arrays.equals(e.encoded(), entries.get(0).encoded());
      if (isRelayForm == relayOnly) {
        FOUR.stream().filter(e::isFor).forEach(out::add);
      }
    }
    return out;
  }

  @Test
  void unknownOrIsolatingPeeringChangesAreRefusedAndChangeNothingUnlessForced() throws Exception {
    envGroupsAndShared();
    long before = membership.durableRevision();
    Rejection unknown = assertThrows(Rejection.class,
        () -> membership.changePeering(new PeeringChange.DeletePolicy("nosuch"), false));
    assertEquals(Rejection.Kind.NOT_FOUND, unknown.kind());
    assertTrue(unknown.getMessage().contains("name: policy \"nosuch\" does not exist"), unknown.getMessage());
    PeeringChange denyAll = new PeeringChange.ApplyPolicy(policy("deny-all", Selector.all(), Selector.all(),
        PeeringMode.DENY));
    Rejection isolating = assertThrows(Rejection.class, () -> membership.changePeering(denyAll, false));
    assertEquals(Rejection.Kind.FAILED_PRECONDITION, isolating.kind());
    assertTrue(isolating.getMessage().contains("would isolate every cluster"), isolating.getMessage());
    assertTrue(entriesAfter(before).isEmpty(), "a refused change leaves no entry");
    assertEquals(4, membership.peering().rules().policies().size());

    Membership.PeeringResult forced = membership.changePeering(denyAll, true).get(10, TimeUnit.SECONDS);
    assertEquals(4, forced.affectedAgents());
    assertEquals(Map.of("p1", List.of("-p2 -shared"), "p2", List.of("-p1 -shared"), "d1", List.of("-shared"),
        "shared", List.of("-d1 -p1 -p2")), deltasAfter(before));

    // A cluster that joins now reaches nobody; its own stream gets its record.
    before = membership.durableRevision();
    upsert("d2", 5, 1);
    LogEntry joined = entriesAfter(before).get(0);
    assertTrue(joined.isFor("d2"));
    assertTrue(FOUR.stream().noneMatch(joined::isFor));
  }
}
