package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubServer;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RemovalReason;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-process tier: a whole hub (log, fan-out, services, per-call authorization) on an
 * in-process transport, no sockets and no TLS handshakes; callers present certificates of the
 * hub's CA through {@link InProcessIdentity}.
 */
class HubInProcessTest {

  @TempDir Path data;
  private HubServer hub;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    hub = HubServer.start(HubConfig.parse(Map.of("data-dir", data.toString(), "listen", "127.0.0.1:0",
        "mesh", "test.mesh")), InstantSource.system(), new SimpleMeterRegistry(),
        InProcessServerBuilder.forName(name).intercept(InProcessIdentity.server()));
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    hub.close();
  }

  private Channel as(Role role, String name) {
    TlsCredentials c = TlsCredentials.of(hub.ca().issue(new SpiffeId(hub.ca().mesh(), role, name), Duration.ofDays(1)));
    return ClientInterceptors.intercept(channel, InProcessIdentity.as(c.chain()));
  }

  @Test
  void aStartThatFailsAfterOpeningTheStoreReleasesItForTheNextStart(@TempDir Path other) throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      var config = HubConfig.parse(Map.of("data-dir", other.toString(), "listen", "127.0.0.1:0", "mesh", "test.mesh",
          "metrics-listen", "127.0.0.1:" + taken.getLocalPort()));
      var meters = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
          io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
      assertThrows(Exception.class, () -> HubServer.start(config, InstantSource.system(), meters,
          InProcessServerBuilder.forName(InProcessServerBuilder.generateName())));
    }
    // The failed start closed its store (file lock included): the operator's next start on the data succeeds.
    HubServer again = HubServer.start(HubConfig.parse(Map.of("data-dir", other.toString(), "listen", "127.0.0.1:0",
        "mesh", "test.mesh")), InstantSource.system(), new SimpleMeterRegistry(),
        InProcessServerBuilder.forName(InProcessServerBuilder.generateName()));
    again.close();
  }

  /** The store recovers beside the CA's load: a CA that fails to load still leaves the store closed. */
  @Test
  void aStartWhoseCaFailsToLoadReleasesTheStoreItRecoveredMeanwhile(@TempDir Path other) throws Exception {
    var settings = Map.of("data-dir", other.toString(), "listen", "127.0.0.1:0", "mesh", "test.mesh");
    HubServer.start(HubConfig.parse(settings), InstantSource.system(), new SimpleMeterRegistry(),
        InProcessServerBuilder.forName(InProcessServerBuilder.generateName())).close();
    Path caCert = other.resolve("ca").resolve(io.meshwire.certs.MeshCa.CERT_FILE);
    byte[] good = java.nio.file.Files.readAllBytes(caCert);
    java.nio.file.Files.writeString(caCert, "not a certificate\n");
    assertThrows(Exception.class, () -> HubServer.start(HubConfig.parse(settings), InstantSource.system(),
        new SimpleMeterRegistry(), InProcessServerBuilder.forName(InProcessServerBuilder.generateName())));
    java.nio.file.Files.write(caCert, good);
    // The operator repairs the CA: the next start finds the store free (its file lock released).
    HubServer again = HubServer.start(HubConfig.parse(settings), InstantSource.system(), new SimpleMeterRegistry(),
        InProcessServerBuilder.forName(InProcessServerBuilder.generateName()));
    again.close();
  }

  @Test
  void callsAreAuthorizedByRoleAsOverTls() {
    assertEquals(0, MeshAdminGrpc.newBlockingStub(as(Role.ADMIN, "ops"))
        .listClusters(ListClustersRequest.getDefaultInstance()).getClustersCount());

    StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
        () -> MeshAdminGrpc.newBlockingStub(channel).listClusters(ListClustersRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
    StatusRuntimeException cluster = assertThrows(StatusRuntimeException.class,
        () -> MeshAdminGrpc.newBlockingStub(as(Role.CLUSTER, "east"))
            .listClusters(ListClustersRequest.getDefaultInstance()));
    assertEquals(Status.Code.PERMISSION_DENIED, cluster.getStatus().getCode());
  }

  @Test
  void aRevokedClustersStreamEndsAndTheOthersSeeItRemoved() throws Exception {
    Channel east = as(Role.CLUSTER, "east");
    Channel west = as(Role.CLUSTER, "west");
    RendezvousGrpc.newBlockingStub(east)
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 1)).build());
    RendezvousGrpc.newBlockingStub(west)
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("west", 2, 1)).build());
    try (WatchRecorder eastWatch = new WatchRecorder(east, 0, "");
         WatchRecorder westWatch = new WatchRecorder(west, 0, "")) {
      eastWatch.awaitCaughtUp();
      westWatch.awaitCaughtUp();

      MeshAdminGrpc.newBlockingStub(as(Role.ADMIN, "ops"))
          .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("compromised").build());

      assertEquals(Status.Code.PERMISSION_DENIED, westWatch.awaitClosed(Duration.ofSeconds(1)).getCode());
      WatchEvent removal = eastWatch.await(WatchEvent::hasClusterRemoved);
      assertEquals("west", removal.getClusterRemoved().getClusterId());
      assertEquals(RemovalReason.REMOVAL_REASON_REVOKED, removal.getClusterRemoved().getReason());
      StatusRuntimeException again = assertThrows(StatusRuntimeException.class, () -> RendezvousGrpc
          .newBlockingStub(west).announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("west", 2, 2)).build()));
      assertEquals(Status.Code.UNAUTHENTICATED, again.getStatus().getCode(), "its certificate is revoked");
    }
  }
}
