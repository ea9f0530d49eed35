package io.meshwire.agent.sync;

import static io.meshwire.agent.state.TestStates.peer;
import static io.meshwire.agent.state.TestStates.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.meshwire.certs.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Applying the hub's Watch events to the agent's state, with the safety rules. No gRPC, a real state file. */
class MeshSyncTest {

  private static final String SELF = "east";
  private static final String MESH = "mesh-1";

  @TempDir Path dir;
  private StateFile file;
  private final List<AgentState> changes = new ArrayList<>();

  @BeforeEach
  void setUp() {
    file = new StateFile(dir.resolve("state.bin"), InstantSource.fixed(Instant.parse("2025-06-01T00:00:00Z")));
  }

  private MeshSync sync(AgentState initial, boolean acceptHubState) {
    return new MeshSync(SELF, initial, file, acceptHubState, changes::add);
  }

  private MeshSync fresh() {
    return sync(AgentState.initial(TestStates.key(0x77)), false);
  }

  /** A sync that has applied a snapshot of {@code peers} at revision 10 in mesh {@link #MESH}. */
  private MeshSync following(PeerRecord... peers) {
    MeshSync s = fresh();
    s.hello(MESH, 10, true);
    s.snapshot(10, List.of(peers), List.of());
    s.caughtUp(10);
    changes.clear();
    return s;
  }

  private AgentState persisted() {
    try {
      return assertInstanceOf(StateFile.Loaded.Found.class, file.load()).state();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<PeerRecord> peers(int count) {
    return IntStream.rangeClosed(1, count).mapToObj(n -> peer("peer" + n, 10 + n)).toList();
  }

  @Test
  void snapshotAppliesEveryPeerButSelfAndPersistsIt() {
    MeshSync s = fresh();

    s.hello(MESH, 5, true);
    s.snapshot(5, List.of(peer(SELF, 1), peer("west", 2), peer("north", 3)), List.of());

    assertEquals(Set.of("west", "north"), s.state().peers().keySet());
    assertEquals(peer("west", 2), s.state().peers().get("west"));
    assertEquals(MESH, s.state().meshUid());
    assertEquals(5, s.state().revision());
    assertEquals(s.state(), persisted());
  }

  @Test
  void upsertAddsThenReplacesAPeer() {
    MeshSync s = following(peer("west", 2));

    s.upserted(11, peer("north", 3));
    s.upserted(12, peer("west", 2, 2, 12));

    assertEquals(Set.of("west", "north"), s.state().peers().keySet());
    assertEquals(2, s.state().peers().get("west").generation());
    assertEquals(12, s.state().revision());
  }

  @Test
  void ownRecordIsNeverAPeerButStillAdvancesTheRevision() {
    MeshSync s = following(peer("west", 2));

    s.upserted(11, peer(SELF, 1));

    assertEquals(Set.of("west"), s.state().peers().keySet());
    assertEquals(11, s.state().revision());
  }

  @Test
  void removalDropsThePeer() {
    MeshSync s = following(peer("west", 2), peer("north", 3));

    s.removed(11, "west", true);

    assertEquals(Set.of("north"), s.state().peers().keySet());
    assertEquals(11, s.state().revision());
  }

  @Test
  void aPolicyDeltaGainsAndLosesPeersInOneWriteEvenMostOfThem() {
    MeshSync s = following(peers(4).toArray(PeerRecord[]::new));

    // Three of four peers lost at once: a policy change, not a hub that lost its data: applied.
    s.peersChanged(11, List.of(peer("south", 20)), List.of("peer1", "peer2", "peer3"), List.of());

    assertEquals(Set.of("peer4", "south"), s.state().peers().keySet());
    assertEquals(11, s.state().revision());
    assertEquals(1, changes.size(), "one state change for the whole delta");
    assertEquals(s.state(), persisted());
  }

  @Test
  void aPeerRegainedThroughPolicyBringsBackItsViewOfThisCluster() {
    MeshSync s = following(peer("west", 2));
    View westSeesUs = view("west", SELF, "10.1.0.0/16", "100.64.0.0/16");
    s.viewUpdated(11, westSeesUs);

    s.peersChanged(12, List.of(), List.of("west"), List.of());
    assertEquals(Map.of(), s.state().viewsOfMe(), "a lost peer's view goes with it");

    s.peersChanged(13, List.of(peer("west", 3)), List.of(), List.of(westSeesUs));
    assertEquals(Map.of("west", westSeesUs), s.state().viewsOfMe());
    assertEquals(Map.of("west", westSeesUs), persisted().viewsOfMe());
  }

  @Test
  void viewsOfThisClusterAreKeptByObserverAndRemovedAgain() {
    MeshSync s = following(peer("west", 2));
    View westSeesUs = view("west", SELF, "10.1.0.0/16", "100.64.0.0/16");

    s.viewUpdated(11, westSeesUs);
    assertEquals(Map.of("west", westSeesUs), s.state().viewsOfMe());
    assertEquals(Map.of("west", westSeesUs), persisted().viewsOfMe());

    s.viewRemoved(12, "west", SELF);
    assertEquals(Map.of(), s.state().viewsOfMe());
    assertEquals(12, persisted().revision());
  }

  @Test
  void viewsAddressedToAnotherClusterAreIgnoredButAdvanceTheRevision() {
    MeshSync s = following(peer("west", 2), peer("north", 3));

    s.viewUpdated(11, view("west", "north", "10.3.0.0/16", "100.64.0.0/16"));
    s.viewRemoved(12, "west", "north");

    assertEquals(Map.of(), s.state().viewsOfMe());
    assertEquals(Map.of(), s.state().myViews());
    assertEquals(12, s.state().revision());
  }

  @Test
  void snapshotKeepsOnlyViewsOfThisCluster() {
    MeshSync s = fresh();
    View westSeesUs = view("west", SELF, "10.1.0.0/16", "100.64.0.0/16");

    s.hello(MESH, 5, true);
    s.snapshot(5, List.of(peer("west", 2), peer("north", 3)),
        List.of(westSeesUs, view("west", "north", "10.3.0.0/16", "100.65.0.0/16")));

    assertEquals(Map.of("west", westSeesUs), s.state().viewsOfMe());
  }

  @Test
  void removalDropsViewsFromAndAboutThatCluster() {
    MeshSync s = following(peer("west", 2), peer("north", 3));
    s.viewUpdated(11, view("west", SELF, "10.1.0.0/16", "100.64.0.0/16"));
    s.viewUpdated(12, view("north", SELF, "10.1.0.0/16", "100.65.0.0/16"));
    s.update(st -> st.withMyViews(Map.of(
        "west", view(SELF, "west", "10.2.0.0/16", "100.66.0.0/16"),
        "north", view(SELF, "north", "10.3.0.0/16", "100.67.0.0/16"))));

    s.removed(13, "west", false);

    assertEquals(Set.of("north"), s.state().viewsOfMe().keySet());
    assertEquals(Set.of("north"), s.state().myViews().keySet());
    assertEquals(s.state(), persisted());
  }

  @Test
  void snapshotDropsMyViewsOfPeersThatLeft() {
    MeshSync s = following(peer("west", 2), peer("north", 3));
    s.update(st -> st.withMyViews(Map.of(
        "west", view(SELF, "west", "10.2.0.0/16", "100.66.0.0/16"),
        "north", view(SELF, "north", "10.3.0.0/16", "100.67.0.0/16"))));

    s.hello(MESH, 20, true);
    s.snapshot(20, List.of(peer("north", 3)), List.of());

    assertEquals(Set.of("north"), s.state().myViews().keySet());
  }

  @Test
  void everyChangeIsPersistedAndSurvivesARestart() {
    MeshSync s = following(peer("west", 2));
    s.upserted(11, peer("north", 3));
    s.removed(12, "west", false);

    MeshSync restarted = sync(persisted(), false);

    assertEquals(12, restarted.state().revision());
    assertEquals(MESH, restarted.state().meshUid());
    assertEquals(Set.of("north"), restarted.state().peers().keySet());
    assertEquals(s.state(), restarted.state());
  }

  @Test
  void bookmarkAdvancesTheRevisionButNeverMovesItBack() {
    MeshSync s = following(peer("west", 2));

    s.bookmark(25);
    assertEquals(25, s.state().revision());
    assertEquals(25, persisted().revision());

    s.bookmark(20);
    assertEquals(25, s.state().revision());
  }

  @Test
  void caughtUpIsSetByTheStreamAndClearedByTheNextHello() {
    MeshSync s = fresh();
    assertFalse(s.caughtUp());

    s.hello(MESH, 0, true);
    s.snapshot(0, List.of(), List.of());
    assertFalse(s.caughtUp());
    s.caughtUp(3);
    assertTrue(s.caughtUp());
    assertEquals(3, s.state().revision());

    s.hello(MESH, 3, false);
    assertFalse(s.caughtUp(), "a new stream is not caught up until it says so");
  }

  @Test
  void resumedStreamWithoutSnapshotAppliesChangesOnTopOfTheState() {
    MeshSync s = sync(TestStates.state(MESH, 10, peer("west", 2)), false);

    s.hello(MESH, 12, false);
    s.upserted(11, peer("north", 3));
    s.caughtUp(12);

    assertEquals(Set.of("west", "north"), s.state().peers().keySet());
    assertEquals(12, s.state().revision());
    assertTrue(s.held().isEmpty());
  }

  @Test
  void aDifferentMeshUidIsHeldAndKeepsThePeers() {
    AgentState before = TestStates.state(MESH, 40, peer("west", 2), peer("north", 3));
    MeshSync s = sync(before, false);

    s.hello("mesh-2", 3, true);
    s.snapshot(3, List.of(peer("south", 4)), List.of());
    s.upserted(4, peer("south", 4, 2, 4));
    s.removed(5, "west", true);
    s.bookmark(6);
    s.caughtUp(6);

    assertTrue(s.held().orElseThrow().contains("mesh_uid mesh-2 differs"), s.held().orElseThrow());
    assertEquals(before, s.state());
    assertFalse(s.caughtUp());
    assertTrue(changes.isEmpty(), "nothing applied, nothing to reconcile");
    assertInstanceOf(StateFile.Loaded.Missing.class, load(), "nothing written either");
  }

  @Test
  void heldStateStaysHeldOnTheNextStream() {
    MeshSync s = sync(TestStates.state(MESH, 40, peer("west", 2)), false);
    s.hello("mesh-2", 3, true);

    s.hello(MESH, 41, false);
    s.upserted(41, peer("north", 3));

    assertTrue(s.held().isPresent());
    assertEquals(Set.of("west"), s.state().peers().keySet());
  }

  @Test
  void acceptHubStateTakesANewMeshUidAndCarriesThePeersItDoesNotListYet() {
    MeshSync s = sync(TestStates.state(MESH, 40, peer("west", 2), peer("north", 3)), true);

    s.hello("mesh-2", 3, true);
    s.snapshot(3, List.of(peer("south", 4)), List.of());

    assertTrue(s.held().isEmpty());
    assertEquals("mesh-2", s.state().meshUid());
    assertEquals(3, s.state().revision());
    assertEquals(Set.of("south", "west", "north"), s.state().peers().keySet());
    assertEquals(Set.of("west", "north"), s.carried());
  }

  private MeshSync carrying(CarriedPeers carried) {
    AgentState before = TestStates.state(MESH, 40, peer("west", 2), peer("north", 3));
    before = before.withViewsOfMe(Map.of("north", view("north", SELF, "10.1.0.0/16", "100.64.0.0/16")))
        .withMyViews(Map.of("north", view(SELF, "north", "10.3.0.0/16", "100.65.0.0/16")));
    MeshSync s = new MeshSync(SELF, before, file, false, changes::add, v -> java.util.Optional.empty(), carried);
    s.hello("mesh-2", 3, true);
    assertTrue(s.held().isPresent(), "another mesh is held until the operator rejoins");
    s.acceptNextMesh();
    s.hello("mesh-2", 3, true);
    s.snapshot(3, List.of(peer("west", 2, 5, 3)), List.of());
    s.caughtUp(3);
    return s;
  }

  @Test
  void rejoinedAgentKeepsAPeerWithItsViewsUntilItAnnouncesInTheNewMesh() {
    FakeClock clock = new FakeClock();
    MeshSync s = carrying(CarriedPeers.inMemory(clock, Duration.ofMinutes(15)));

    assertTrue(s.held().isEmpty());
    assertEquals("mesh-2", s.state().meshUid());
    assertEquals(Set.of("west", "north"), s.state().peers().keySet(), "north kept, data plane untouched");
    assertEquals(peer("north", 3), s.state().peers().get("north"));
    assertEquals(Set.of("north"), s.state().myViews().keySet());
    assertEquals(Set.of("north"), s.state().viewsOfMe().keySet());
    assertEquals(Set.of("north"), s.carried());
    assertEquals(s.state(), persisted());

    s.upserted(4, peer("north", 3, 7, 4));
    assertEquals(Set.of(), s.carried(), "north is in the new mesh now");
    assertEquals(7, s.state().peers().get("north").generation());
    clock.advance(Duration.ofHours(1));
    s.expireCarried();
    assertEquals(Set.of("west", "north"), s.state().peers().keySet(), "nothing carried, nothing expires");
  }

  @Test
  void carriedPeerIsRemovedWithItsViewsWhenTheGracePeriodEnds() {
    FakeClock clock = new FakeClock();
    MeshSync s = carrying(CarriedPeers.inMemory(clock, Duration.ofMinutes(15)));

    clock.advance(Duration.ofMinutes(14));
    s.expireCarried();
    assertEquals(Set.of("west", "north"), s.state().peers().keySet());

    clock.advance(Duration.ofMinutes(1));
    changes.clear();
    s.expireCarried();
    assertEquals(Set.of("west"), s.state().peers().keySet());
    assertEquals(Map.of(), s.state().myViews());
    assertEquals(Map.of(), s.state().viewsOfMe());
    assertEquals(Set.of(), s.carried());
    assertEquals(1, changes.size(), "the data plane is told");
    assertEquals(s.state(), persisted());
  }

  @Test
  void laterSnapshotOfTheNewMeshKeepsCarriedPeersAndReleasesThoseItLists() {
    MeshSync s = carrying(CarriedPeers.inMemory(new FakeClock(), Duration.ofMinutes(15)));
    s.upserted(4, peer("south", 4));

    s.hello("mesh-2", 9, true); // e.g. resumed below the hub's compaction point
    s.snapshot(9, List.of(peer("west", 2, 5, 3)), List.of());
    assertEquals(Set.of("west", "north"), s.state().peers().keySet(), "south really left; north still carried");

    s.hello("mesh-2", 10, true);
    s.snapshot(10, List.of(peer("west", 2, 5, 3), peer("north", 3, 8, 10)), List.of());
    assertEquals(Set.of(), s.carried());
    s.hello("mesh-2", 11, true);
    s.snapshot(11, List.of(peer("west", 2, 5, 3)), List.of());
    assertEquals(Set.of("west"), s.state().peers().keySet(), "no longer carried: the snapshot rules");
  }

  @Test
  void hubRemovalOfACarriedPeerEndsItsCarry() {
    MeshSync s = carrying(CarriedPeers.inMemory(new FakeClock(), Duration.ofMinutes(15)));

    s.removed(4, "north", true);

    assertEquals(Set.of("west"), s.state().peers().keySet());
    assertEquals(Set.of(), s.carried());
  }

  @Test
  void carriedPeersSurviveARestartWithTheirDeadlineAndAreForgottenWithAnotherMesh() throws Exception {
    FakeClock clock = new FakeClock();
    Path carriedFile = dir.resolve("carried-peers");
    MeshSync s = carrying(CarriedPeers.load(carriedFile, clock, Duration.ofMinutes(15), MESH));
    java.time.Instant deadline = clock.instant().plus(Duration.ofMinutes(15));

    clock.advance(Duration.ofMinutes(5));
    CarriedPeers restarted = CarriedPeers.load(carriedFile, clock, Duration.ofMinutes(15), s.state().meshUid());
    assertEquals(Set.of("north"), restarted.ids());
    assertEquals(deadline, restarted.deadline(), "a restart does not extend the grace period");

    CarriedPeers otherMesh = CarriedPeers.load(carriedFile, clock, Duration.ofMinutes(15), MESH);
    assertEquals(Set.of(), otherMesh.ids());
    assertFalse(Files.exists(carriedFile), "a file of another mesh is deleted");
  }

  @Test
  void aSnapshotWithinTheSameMeshCarriesNothing() {
    MeshSync s = following(peer("west", 2), peer("north", 3), peer("south", 4));

    s.hello(MESH, 50, true);
    s.snapshot(50, List.of(peer("west", 2), peer("south", 4)), List.of());

    assertEquals(Set.of("west", "south"), s.state().peers().keySet());
    assertEquals(Set.of(), s.carried());
  }

  @Test
  void snapshotRemovingThreeOfFourPeersIsHeld() {
    List<PeerRecord> four = peers(4);
    MeshSync s = following(four.toArray(PeerRecord[]::new));
    AgentState before = s.state();

    s.hello(MESH, 50, true);
    s.snapshot(50, List.of(four.get(0)), List.of());
    s.upserted(51, peer("south", 4));

    assertTrue(s.held().orElseThrow().contains("would remove 3 of 4 peers"), s.held().orElseThrow());
    assertEquals(before, s.state());
    assertEquals(before, persisted());
    assertTrue(changes.isEmpty());
  }

  @Test
  void acceptHubStateAppliesAMassRemovalOnceOnly() {
    List<PeerRecord> four = peers(4);
    MeshSync s = sync(TestStates.state(MESH, 10, four.toArray(PeerRecord[]::new)), true);

    s.hello(MESH, 50, true);
    s.snapshot(50, List.of(four.get(0)), List.of());
    assertTrue(s.held().isEmpty());
    assertEquals(Set.of("peer1"), s.state().peers().keySet());

    s.upserted(51, peer("a", 21));
    s.upserted(52, peer("b", 22));
    s.upserted(53, peer("c", 23));
    s.hello(MESH, 60, true);
    s.snapshot(60, List.of(peer("a", 21)), List.of());
    assertTrue(s.held().isPresent(), "the operator's override was for one snapshot");
    assertEquals(4, s.state().peers().size());
  }

  @ParameterizedTest(name = "{0} peers, snapshot keeps {1}: held={2}")
  @CsvSource({
      "4, 1, true",   // removes 3 of 4
      "4, 2, false",  // removes exactly half
      "4, 3, false",  // removes 1 of 4
      "2, 0, true",   // removes both
      "2, 1, false",
      "1, 0, false",  // a mesh of two clusters may lose its only peer
      "0, 0, false",
      "10, 4, true",
      "10, 5, false"})
  void snapshotIsHeldOnlyWhenItRemovesMoreThanHalfOfAtLeastTwoPeers(int before, int kept, boolean held) {
    List<PeerRecord> all = peers(before);
    MeshSync s = following(all.toArray(PeerRecord[]::new));

    s.hello(MESH, 50, true);
    s.snapshot(50, all.subList(0, kept), List.of());

    assertEquals(held, s.held().isPresent());
    assertEquals(held ? before : kept, s.state().peers().size());
  }

  @Test
  void changesAfterADroppedSnapshotDoNotMoveTheResumePoint() {
    MeshSync s = following(peer("west", 2));

    s.hello(MESH, 60, true);
    s.malformed(60, "record bad: wireguard_public_key must be 32 bytes, got 31");
    s.upserted(61, peer("north", 3));
    s.bookmark(62);
    s.caughtUp(62);

    assertEquals(10, s.state().revision(), "a resume from 62 would never bring the snapshot's content");
    assertEquals(10, persisted().revision());
    assertEquals(Set.of("west"), s.state().peers().keySet());
    assertFalse(s.caughtUp());
    assertEquals(1, s.malformedEvents());
    assertTrue(s.held().isEmpty(), "not held: the next stream brings the snapshot again");
  }

  @Test
  void onChangeSeesEachAppliedStateOnceItIsDurable() {
    List<Long> durableAtCallback = new ArrayList<>();
    MeshSync s = new MeshSync(SELF, AgentState.initial(TestStates.key(0x77)), file, false, st -> {
      changes.add(st);
      durableAtCallback.add(persisted().revision());
    });

    s.hello(MESH, 2, true);
    s.snapshot(2, List.of(peer("west", 2)), List.of());
    s.upserted(3, peer("north", 3));
    s.viewUpdated(4, view("west", SELF, "10.1.0.0/16", "100.64.0.0/16"));
    s.removed(5, "north", false);
    s.bookmark(6);

    assertEquals(List.of(2L, 3L, 4L, 5L, 6L), changes.stream().map(AgentState::revision).toList());
    assertEquals(List.of(2L, 3L, 4L, 5L, 6L), durableAtCallback);
    assertEquals(s.state(), changes.getLast());
  }

  @Test
  void updateOutsideTheStreamIsPersistedAndReported() {
    MeshSync s = following(peer("west", 2));

    AgentState updated = s.update(st -> st.withOwnGeneration(99));

    assertEquals(99, updated.ownGeneration());
    assertEquals(99, persisted().ownGeneration());
    assertEquals(List.of(updated), changes);
  }

  @Test
  void aFailedStateWriteKeepsTheChangeInMemoryAndCountsIt() throws IOException {
    Files.writeString(dir.resolve("not-a-dir"), "x");
    StateFile broken = new StateFile(dir.resolve("not-a-dir/state.bin"), InstantSource.system());
    MeshSync s = new MeshSync(SELF, AgentState.initial(TestStates.key(0x77)), broken, false, changes::add);

    s.hello(MESH, 2, true);
    s.snapshot(2, List.of(peer("west", 2)), List.of());

    assertEquals(Set.of("west"), s.state().peers().keySet());
    assertEquals(1, s.stateWriteErrors());
    assertEquals(1, changes.size(), "the data plane still follows the hub");
  }

  private StateFile.Loaded load() {
    try {
      return file.load();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A sync that checks views of this cluster against its pod CIDR 10.1.0.0/16, following {@code peers}. */
  private MeshSync checking(PeerRecord... peers) {
    MeshSync s = new MeshSync(SELF, AgentState.initial(TestStates.key(0x77)), file, false, changes::add,
        v -> io.meshwire.agent.ipam.ViewChecks.problemAsViewOfMe(v,
            List.of(io.meshwire.netaddr.Cidr.parse("10.1.0.0/16"))));
    s.hello(MESH, 10, true);
    s.snapshot(10, List.of(peers), List.of());
    s.caughtUp(10);
    return s;
  }

  @Test
  void aViewOfTheWrongSizeOrOfAnotherCidrIsRejectedCountedAndNotApplied() {
    MeshSync s = checking(peer("west", 2));
    View good = view("west", SELF, "10.1.0.0/16", "100.64.0.0/16");
    s.viewUpdated(11, good);

    s.viewUpdated(12, view("west", SELF, "10.1.0.0/16", "100.64.0.0/24"));
    s.viewUpdated(13, view("west", SELF, "10.9.0.0/16", "100.65.0.0/16"));

    assertEquals(Map.of("west", good), s.state().viewsOfMe(), "the previous view stays");
    assertEquals(2, s.rejectedViews());
    assertEquals(13, s.state().revision(), "a rejected view still moves the resume point");
  }

  @Test
  void aSnapshotKeepsThePreviousViewInPlaceOfARejectedOne() {
    MeshSync s = checking(peer("west", 2), peer("north", 3));
    View good = view("west", SELF, "10.1.0.0/16", "100.64.0.0/16");
    s.viewUpdated(11, good);

    s.hello(MESH, 20, true);
    s.snapshot(20, List.of(peer("west", 2), peer("north", 3)), List.of(
        view("west", SELF, "10.1.0.0/16", "100.0.0.0/8"),
        view("north", SELF, "10.1.0.0/16", "100.99.0.0/16")));

    assertEquals(Map.of("west", good, "north", view("north", SELF, "10.1.0.0/16", "100.99.0.0/16")),
        s.state().viewsOfMe());
    assertEquals(1, s.rejectedViews());
  }

  @Test
  void theRelayListOfAHelloGoesToItsListenerAndLeavesTheMembershipAlone() {
    MeshSync s = following(peer("west", 2));
    List<List<io.meshwire.netaddr.HostPort>> heard = new ArrayList<>();
    s.onRelays(heard::add);
    AgentState before = s.state();

    s.relays(List.of(new io.meshwire.netaddr.HostPort("relay-1.example.com", 443)));

    assertEquals(List.of(List.of(new io.meshwire.netaddr.HostPort("relay-1.example.com", 443))), heard);
    assertEquals(before, s.state());
  }
}
