package io.meshwire.agent.hub;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.CaughtUp;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.ClusterUpserted;
import io.meshwire.proto.rendezvous.v1.Hello;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.SnapshotChunk;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HubClient#watch} against a scripted hub over real TLS (a hub certificate of a test CA):
 * what a real hub never sends, such as malformed records, and how a stream ends.
 */
class HubClientWatchTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String MESH = "test.mesh";

  @TempDir Path dir;
  private final AtomicReference<List<WatchEvent>> script = new AtomicReference<>(List.of());
  private final AtomicReference<ServerCallStreamObserver<WatchEvent>> stream = new AtomicReference<>();
  private final AtomicReference<WatchRequest> request = new AtomicReference<>();
  private Server server;
  private HubClient client;
  private MeshSync sync;
  private RecordingEvents events;

  @BeforeEach
  void setUp() throws Exception {
    MeshCa ca = MeshCa.create(MESH, Duration.ofDays(1), InstantSource.system());
    IssuedCredential hubCert = ca.issue(new SpiffeId(MESH, Role.HUB, "scripted"), Duration.ofDays(1));
    IssuedCredential east = ca.issue(new SpiffeId(MESH, Role.CLUSTER, "east"), Duration.ofDays(1));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(GrpcSslContexts.configure(
            SslContextBuilder.forServer(hubCert.privateKey(), hubCert.certificate())).build())
        .addService(new RendezvousGrpc.RendezvousImplBase() {
          @Override
          public void watch(WatchRequest req, StreamObserver<WatchEvent> response) {
            request.set(req);
            stream.set((ServerCallStreamObserver<WatchEvent>) response);
            script.get().forEach(response::onNext); // then stays open, as a hub does
          }
        })
        .build()
        .start();
    client = new HubClient(List.of(new HostPort("127.0.0.1", server.getPort())),
        TlsCredentials.of(east),
        InstantSource.system());
    StateFile file = new StateFile(dir.resolve("state.bin"), InstantSource.system());
    sync = new MeshSync("east", TestStates.state("mesh-1", 10, TestStates.peer("west", 2)), file, false, s -> { });
    events = new RecordingEvents(sync);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static WatchEvent hello(boolean snapshotFollows) {
    return WatchEvent.newBuilder()
        .setHello(Hello.newBuilder().setMeshUid("mesh-1").setHeadRevision(20).setSnapshotFollows(snapshotFollows))
        .build();
  }

  private static WatchEvent chunk(long revision, int index, boolean last, ClusterRecord... records) {
    return WatchEvent.newBuilder().setRevision(revision)
        .setSnapshot(SnapshotChunk.newBuilder().setIndex(index).setLast(last).addAllClusters(List.of(records)))
        .build();
  }

  private static WatchEvent upserted(long revision, ClusterRecord record) {
    return WatchEvent.newBuilder().setRevision(revision)
        .setClusterUpserted(ClusterUpserted.newBuilder().setRecord(record)).build();
  }

  private static WatchEvent caughtUp(long revision) {
    return WatchEvent.newBuilder().setRevision(revision).setCaughtUp(CaughtUp.getDefaultInstance()).build();
  }

  private static ClusterRecord badKey(String clusterId, int n) {
    return HubFixture.record(clusterId, n, 1).toBuilder().setWireguardPublicKey(ByteString.copyFrom(new byte[31]))
        .build();
  }

  @Test
  void watchSendsTheResumePointOfTheState() throws Exception {
    client.watch(10, "mesh-1", events);

    await().atMost(WAIT).until(() -> request.get() != null);
    assertEquals(10, request.get().getSinceRevision());
    assertEquals("mesh-1", request.get().getMeshUid());
  }

  @Test
  void aSnapshotWithAMalformedRecordIsDroppedWholeAndEndsTheStream() throws Exception {
    script.set(List.of(
        hello(true),
        chunk(20, 0, false, HubFixture.record("north", 3, 1)),
        chunk(20, 1, true, badKey("south", 4)),
        upserted(21, HubFixture.record("north", 3, 2)),
        caughtUp(21)));
    AgentState before = sync.state();

    HubClient.WatchEnd end = client.watch(10, "mesh-1", events).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertEquals(Status.Code.INTERNAL, end.status().getCode());
    assertTrue(end.status().getDescription().startsWith(
        "snapshot at revision 20 dropped: record south: wireguard_public_key: must be 32 bytes"),
        end.status().getDescription());
    assertEquals(List.of(RecordingEvents.Malformed.class),
        events.seen.stream().skip(2).map(Object::getClass).distinct().toList(), "nothing after the bad chunk"); // after hello and its relays
    assertEquals(before, sync.state(), "neither half of the snapshot nor later changes are applied");
    assertEquals(1, sync.malformedEvents());
    assertFalse(sync.caughtUp());
    await().atMost(WAIT).until(() -> stream.get().isCancelled());
  }

  @Test
  void aMalformedChangeIsSkippedAndTheStreamGoesOn() throws Exception {
    script.set(List.of(
        hello(false),
        upserted(11, badKey("south", 4)),
        upserted(12, HubFixture.record("north", 3, 1)),
        caughtUp(12)));

    CompletableFuture<HubClient.WatchEnd> end = client.watch(10, "mesh-1", events);

    await().atMost(WAIT).until(sync::caughtUp);
    assertEquals(Set.of("west", "north"), sync.state().peers().keySet());
    assertEquals(12, sync.state().revision());
    assertEquals(1, sync.malformedEvents());
    assertTrue(events.of(RecordingEvents.Malformed.class).getFirst().problem()
        .startsWith("record south: wireguard_public_key"));
    assertFalse(end.isDone());
    end.cancel(true);
  }

  @Test
  void theHubEndingTheStreamIsUnavailable() throws Exception {
    script.set(List.of(hello(false), caughtUp(10)));
    CompletableFuture<HubClient.WatchEnd> end = client.watch(10, "mesh-1", events);
    await().atMost(WAIT).until(() -> stream.get() != null && events.caughtUp());

    stream.get().onCompleted();

    HubClient.WatchEnd ended = end.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAVAILABLE, ended.status().getCode());
    assertTrue(ended.retryAfter().isEmpty());
  }

  @Test
  void cancellingTheWatchCancelsTheStreamAtTheHub() {
    script.set(List.of(hello(false)));
    CompletableFuture<HubClient.WatchEnd> end = client.watch(10, "mesh-1", events);
    await().atMost(WAIT).until(() -> stream.get() != null);

    end.cancel(true);

    await().atMost(WAIT).until(() -> stream.get().isCancelled());
  }

  @Test
  void theRelaysOfEachHelloReachTheAgentAndAnEntryThatDoesNotParseIsReported() throws Exception {
    script.set(List.of(
        WatchEvent.newBuilder().setHello(Hello.newBuilder().setMeshUid("mesh-1").setHeadRevision(10)
            .addRelays("relay-1.example.com:443").addRelays("relay two:443").addRelays("10.0.0.5:8443")).build(),
        caughtUp(10)));

    CompletableFuture<HubClient.WatchEnd> end = client.watch(10, "mesh-1", events);

    await().atMost(WAIT).until(() -> !events.of(RecordingEvents.Relays.class).isEmpty());
    assertEquals(List.of(new HostPort("relay-1.example.com", 443), new HostPort("10.0.0.5", 8443)),
        events.of(RecordingEvents.Relays.class).getFirst().relays());
    assertTrue(events.of(RecordingEvents.Malformed.class).getFirst().problem().startsWith("hello.relays[1] "));
    end.cancel(true);
  }
}
