package io.meshwire.agent.hub;

import static io.meshwire.agent.state.TestStates.view;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.LinkStatus;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.rendezvous.v1.LinkState;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of the rendezvous protocol against a real hub (TLS, store, watch fan-out) on
 * 127.0.0.1: enrollment, announce, Watch into a {@link MeshSync} with a real state file, resume
 * after a hub restart, and the hub's refusals as the agent sees them.
 */
class HubClientTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final InstantSource CLOCK = InstantSource.system();

  @TempDir Path dir;
  private HubFixture hub;
  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : cleanup.reversed()) {
      c.close();
    }
    if (hub != null) {
      hub.close();
    }
  }

  private HubFixture startHub(Map<String, String> settings) throws Exception {
    hub = new HubFixture(dir.resolve("hub"), settings);
    return hub;
  }

  private List<HostPort> hubAddresses() {
    return List.of(new HostPort("127.0.0.1", hub.port()));
  }

  private TlsCredentials enroll(String clusterId) {
    return HubClient.enroll(hubAddresses(), hub.ca().certificate(), hub.ca().mesh(), clusterId,
        hub.createToken(clusterId), CLOCK);
  }

  private HubClient client(TlsCredentials credentials) {
    HubClient c = new HubClient(hubAddresses(), credentials, CLOCK);
    cleanup.add(c);
    return c;
  }

  /** An enrolled cluster that has announced record {@code n} at generation 1. */
  private HubClient joined(String clusterId, int n) {
    HubClient c = client(enroll(clusterId));
    c.announce(HubFixture.record(clusterId, n, 1));
    return c;
  }

  /** One agent's sync side: its state file, its {@link MeshSync}, and a recording of the stream. */
  private final class Agent {
    final StateFile file;
    final MeshSync sync;
    final RecordingEvents events;

    Agent(String clusterId, AgentState initial) {
      file = new StateFile(dir.resolve(clusterId).resolve("state.bin"), CLOCK);
      sync = new MeshSync(clusterId, initial, file, false, s -> { });
      events = new RecordingEvents(sync);
    }

    Agent(String clusterId) {
      this(clusterId, AgentState.initial(TestStates.key(0x77)));
    }

    /** Opens a Watch from the state's resume point; the stream is cancelled after the test. */
    CompletableFuture<HubClient.WatchEnd> watch(HubClient client) {
      AgentState s = sync.state();
      CompletableFuture<HubClient.WatchEnd> end = client.watch(s.revision(), s.meshUid(), events);
      cleanup.add(() -> end.cancel(true));
      return end;
    }

    AgentState persisted() throws IOException {
      return assertInstanceOf(StateFile.Loaded.Found.class, file.load()).state();
    }
  }

  @Test
  void enrolledClusterFollowsTheMeshAndSeesASecondClusterJoin() throws Exception {
    startHub(Map.of());
    TlsCredentials eastCredentials = enroll("east");
    assertEquals(new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east"), SpiffeId.of(eastCredentials.leaf()));
    assertEquals(List.of(hub.ca().certificate()), eastCredentials.trustAnchors());
    HubClient east = client(eastCredentials);
    assertEquals(1, east.announce(HubFixture.record("east", 1, 1)));

    Agent agent = new Agent("east");
    agent.watch(east);
    await().atMost(WAIT).until(agent.sync::caughtUp);

    assertTrue(agent.events.hello().snapshotFollows(), "a fresh agent starts from a snapshot");
    assertFalse(agent.sync.state().meshUid().isEmpty());
    assertEquals(1, agent.sync.state().revision());
    assertEquals(Set.of(), agent.sync.state().peers().keySet(), "its own record is not a peer");

    long westRevision = joined("west", 2).announce(HubFixture.record("west", 2, 2));

    await().atMost(WAIT).until(() -> agent.sync.state().revision() == westRevision);
    var west = agent.sync.state().peers().get("west");
    assertEquals(List.of(Cidr.parse("10.2.0.0/16")), west.podCidrs());
    assertEquals(List.of(new HostPort("198.18.0.2", 51820)), west.gatewayEndpoints());
    assertEquals(2, west.generation());
    assertEquals(agent.sync.state(), agent.persisted(), "every applied event is on disk");
    assertEquals(0, agent.sync.malformedEvents());
  }

  @Test
  void afterAHubRestartTheAgentResumesFromItsPersistedRevisionWithoutASnapshot() throws Exception {
    startHub(Map.of());
    HubClient east = joined("east", 1);
    HubClient west = joined("west", 2);
    Agent before = new Agent("east");
    CompletableFuture<HubClient.WatchEnd> firstStream = before.watch(east);
    await().atMost(WAIT).until(before.sync::caughtUp);
    AgentState saved = before.persisted();
    assertEquals(Set.of("west"), saved.peers().keySet());

    hub.restart();

    HubClient.WatchEnd end = firstStream.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAVAILABLE, end.status().getCode());
    assertEquals(Optional.of(Duration.ofSeconds(2)), end.retryAfter(), "the hub's goaway hint");

    // The agent restarts too: it has only its state file.
    Agent after = new Agent("east", saved);
    east.rotate();
    west.rotate();
    after.watch(east);
    await().atMost(WAIT).until(after.sync::caughtUp);
    long resumed = west.announce(HubFixture.record("west", 2, 2));
    await().atMost(WAIT).until(() -> after.sync.state().revision() == resumed);

    assertFalse(after.events.hello().snapshotFollows());
    assertEquals(2.0, hub.meters().get("meshwire.hub.tls.resumed").functionCounter().count(),
        "both agents resumed their TLS sessions with the restarted hub (no full handshake)");
    assertEquals(saved.meshUid(), after.events.hello().meshUid(), "the hub kept its log across the restart");
    assertEquals(List.of(), after.events.of(RecordingEvents.Snapshot.class));
    assertTrue(resumed > saved.revision());
    assertEquals(2, after.sync.state().peers().get("west").generation());
    assertEquals(resumed, after.persisted().revision());
  }

  @Test
  void aReusedJoinTokenIsRefusedAsUnauthenticated() throws Exception {
    startHub(Map.of());
    String token = hub.createToken("east");
    HubClient.enroll(hubAddresses(), hub.ca().certificate(), hub.ca().mesh(), "east", token, CLOCK);

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> HubClient.enroll(
        hubAddresses(), hub.ca().certificate(), hub.ca().mesh(), "east", token, CLOCK));

    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    assertFalse(HubErrors.isTransient(e), "another hub will not accept a used token either");
  }

  @Test
  void enrollmentMovesPastAnUnreachableHubAddress() throws Exception {
    startHub(Map.of());
    HostPort closed = new HostPort("127.0.0.1", closedPort());

    TlsCredentials credentials = HubClient.enroll(HubAddresses.inOrder(List.of(closed, hubAddresses().getFirst())),
        hub.ca().certificate(), hub.ca().mesh(), "east", hub.createToken("east"), CLOCK);

    assertEquals(new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east"), SpiffeId.of(credentials.leaf()));
  }

  @Test
  void clientMovesToTheNextHubAddressAfterRotate() throws Exception {
    startHub(Map.of());
    HostPort closed = new HostPort("127.0.0.1", closedPort());
    HubClient east = new HubClient(HubAddresses.inOrder(List.of(closed, hubAddresses().getFirst())), enroll("east"),
        CLOCK);
    cleanup.add(east);

    StatusRuntimeException down = assertThrows(StatusRuntimeException.class,
        () -> east.announce(HubFixture.record("east", 1, 1)));
    assertEquals(Status.Code.UNAVAILABLE, down.getStatus().getCode());
    assertTrue(HubErrors.isTransient(down));
    assertEquals(closed, east.currentHub());

    east.rotate();

    assertEquals(1, east.announce(HubFixture.record("east", 1, 1)));
    assertEquals(hubAddresses().getFirst(), east.currentHub());
  }

  @Test
  void enrollmentNeedsAHubAddress() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HubClient.enroll(List.of(),
        null, "test.mesh", "east", "token", CLOCK));

    assertTrue(e.getMessage().startsWith("hub addresses:"), e.getMessage());
  }

  @Test
  void rateLimitedAnnounceCarriesARetryHintThatTheBackoffHonours() throws Exception {
    startHub(Map.of("announce-rate", "1/10s"));
    HubClient east = joined("east", 1);

    StatusRuntimeException limited = assertThrows(StatusRuntimeException.class,
        () -> east.announce(HubFixture.record("east", 1, 2)));

    assertEquals(Status.Code.RESOURCE_EXHAUSTED, limited.getStatus().getCode());
    assertTrue(HubErrors.isTransient(limited));
    Optional<Duration> hint = HubErrors.retryAfter(limited);
    assertEquals(Optional.of(Duration.ofSeconds(10)), hint);
    Duration wait = Backoff.defaults().delay(1, hint);
    assertTrue(wait.compareTo(Duration.ofSeconds(10)) >= 0 && wait.compareTo(Duration.ofMillis(10_200)) <= 0,
        wait::toString);
  }

  @Test
  void aSnapshotSentInChunksIsAppliedWhole() throws Exception {
    startHub(Map.of("snapshot-chunk-size", "1"));
    HubClient east = joined("east", 1);
    joined("west", 2);
    joined("north", 3);
    joined("south", 4);

    Agent agent = new Agent("east");
    agent.watch(east);
    await().atMost(WAIT).until(agent.sync::caughtUp);

    assertEquals(List.of(new RecordingEvents.Snapshot(4, Set.of("east", "west", "north", "south"), 0)),
        agent.events.of(RecordingEvents.Snapshot.class));
    assertEquals(Set.of("west", "north", "south"), agent.sync.state().peers().keySet());
  }

  @Test
  void aPublishedViewReachesOnlyItsSubject() throws Exception {
    startHub(Map.of("bookmark-interval", "1s"));
    HubClient east = joined("east", 1);
    HubClient west = joined("west", 2);
    Agent eastAgent = new Agent("east");
    Agent westAgent = new Agent("west");
    eastAgent.watch(east);
    westAgent.watch(west);
    await().atMost(WAIT).until(() -> eastAgent.sync.caughtUp() && westAgent.sync.caughtUp());

    long published = east.publishViews(List.of(view("east", "west", "10.2.0.0/16", "100.64.0.0/16")), List.of());

    await().atMost(WAIT).until(() -> westAgent.sync.state().viewsOfMe().containsKey("east"));
    assertEquals(Cidr.parse("100.64.0.0/16"),
        westAgent.sync.state().viewsOfMe().get("east").seenAs(Cidr.parse("10.2.0.0/16")));
    // East is not sent the view; a bookmark moves its resume point past it.
    await().atMost(WAIT).until(() -> eastAgent.sync.state().revision() >= published);
    assertTrue(eastAgent.events.of(RecordingEvents.ViewUpdated.class).isEmpty(), "a view goes to its subject only");
    assertFalse(eastAgent.events.of(RecordingEvents.Bookmark.class).isEmpty());
    assertEquals(Map.of(), eastAgent.sync.state().viewsOfMe());

    east.publishViews(List.of(), List.of("west"));

    await().atMost(WAIT).until(() -> westAgent.sync.state().viewsOfMe().isEmpty());
    assertEquals(Map.of(), westAgent.persisted().viewsOfMe());
  }

  @Test
  void aRevokedPeerIsRemovedFromTheState() throws Exception {
    startHub(Map.of());
    HubClient east = joined("east", 1);
    joined("west", 2);
    joined("north", 3);
    Agent agent = new Agent("east");
    agent.watch(east);
    await().atMost(WAIT).until(agent.sync::caughtUp);

    MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
        .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("test").build());

    await().atMost(WAIT).until(() -> !agent.sync.state().peers().containsKey("west"));
    assertEquals(Set.of("north"), agent.sync.state().peers().keySet());
    assertTrue(agent.events.of(RecordingEvents.Removed.class).stream()
        .anyMatch(r -> r.clusterId().equals("west") && r.revoked()));
    assertTrue(agent.sync.held().isEmpty(), "one removal is not a mass removal");
  }

  @Test
  void aRenewedCertificateHasANewKeyAndKeepsTheClientWorking() throws Exception {
    startHub(Map.of());
    TlsCredentials original = enroll("east");
    HubClient east = client(original);
    SpiffeId id = new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east");

    TlsCredentials renewed = east.renew(id);
    east.useCredentials(renewed);

    assertEquals(id, SpiffeId.of(renewed.leaf()));
    assertFalse(java.util.Arrays.equals(original.leaf().getPublicKey().getEncoded(),
        renewed.leaf().getPublicKey().getEncoded()), "renewal makes a new key pair");
    assertArrayEquals(hub.ca().certificate().getEncoded(), renewed.trustAnchors().getFirst().getEncoded());
    assertEquals(1, east.announce(HubFixture.record("east", 1, 1)));
  }

  @Test
  void aStatusReportIsVisibleToTheOperator() throws Exception {
    startHub(Map.of());
    HubClient east = joined("east", 1);

    east.reportStatus(ReportStatusRequest.newBuilder()
        .addPeers(PeerLinkStatus.newBuilder().setPeerClusterId("west").setState(LinkState.LINK_STATE_UP)
            .setRxBytes(10).setTxBytes(20))
        .build());

    List<LinkStatus> links = MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
        .getMeshStatus(GetMeshStatusRequest.getDefaultInstance()).getLinksList();
    assertEquals(1, links.size());
    assertEquals("east", links.getFirst().getFromClusterId());
    assertEquals("west", links.getFirst().getToClusterId());
    assertEquals(LinkState.LINK_STATE_UP, links.getFirst().getStatus().getState());
  }

  /** A local port with nothing listening (connection refused). */
  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
