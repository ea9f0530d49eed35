package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.Role;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.certs.tls.HubChannels;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.server.HubConfig;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.admin.v1.ListRevocationsRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.relay.RelayTls;
import io.meshwire.relay.client.RelayClient;
import io.meshwire.relay.server.HubRevocations;
import io.meshwire.relay.server.RelayConfig;
import io.meshwire.relay.server.RelayServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.awaitility.Awaitility;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay embedded in the hub ({@code relay-listen}) and the relay list setting. */
class HubRelayTest {

  @TempDir Path dir;

  @Test
  void aRelayListThatDoesNotParseStopsTheHubWithAMessageNamingTheSetting() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HubConfig.parse(Map.of(
        "data-dir", dir.toString(), "relays", "relay-1.example.com:443, relay 2:443")));
    assertTrue(e.getMessage().startsWith("hub config: relays: entry 2 \"relay 2:443\""), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> HubConfig.parse(Map.of(
        "data-dir", dir.toString(), "relay-listen", "0.0.0.0:443")));
    assertTrue(e.getMessage().contains("relays: required when relay-listen"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> HubConfig.parse(Map.of(
        "data-dir", dir.toString(), "relays", "10.0.0.1:443,10.0.0.1:443")));
    assertTrue(e.getMessage().contains("twice"), e.getMessage());
  }

  @Test
  void advertisesTheListOrElseTheEmbeddedRelaysAddress() {
    HubConfig listed = HubConfig.parse(Map.of("data-dir", dir.toString(), "relay-listen", "0.0.0.0:443",
        "relays", "relay.example.com:443,10.0.0.5:8443"));
    assertEquals(List.of(new HostPort("relay.example.com", 443), new HostPort("10.0.0.5", 8443)),
        listed.advertisedRelays());
    HubConfig embedded = HubConfig.parse(Map.of("data-dir", dir.toString(), "relay-listen", "10.1.2.3:443"));
    assertEquals(List.of(new HostPort("10.1.2.3", 443)), embedded.advertisedRelays());
    assertEquals(List.of(), HubConfig.defaults(dir).advertisedRelays());
  }

  @Test
  void everyHelloListsTheRelaysAgentsShouldUse() throws Exception {
    try (HubFixture hub = new HubFixture(dir, Map.of("relays", "relay-1.example.com:443,10.0.0.5:443"))) {
      var east = hub.enroll("east");
      try (WatchRecorder watch = new WatchRecorder(hub.channel(east), 0, "")) {
        watch.awaitCaughtUp();
        assertEquals(List.of("relay-1.example.com:443", "10.0.0.5:443"),
            watch.events.get(0).getHello().getRelaysList());
      }
    }
  }

  @Test
  void embeddedRelayClosesARevokedClustersConnectionWithinTwoSeconds() throws Exception {
    EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try (HubFixture hub = new HubFixture(dir, Map.of("relay-listen", "127.0.0.1:0"))) {
      int relayPort = hub.hub().relayPort().orElseThrow();
      BlockingQueue<Boolean> connections = new LinkedBlockingQueue<>();
      RelayClient.Listener listener = new RelayClient.Listener() {
        @Override
        public void onDatagram(String source, ByteBuf payload) {}

        @Override
        public void onConnected(boolean connected) {
          connections.add(connected);
        }
      };
      try (RelayClient west = new RelayClient(new HostPort("127.0.0.1", relayPort),
          RelayTls.client(new RenewableKeyManager(hub.issue(Role.CLUSTER, "west")), InstantSource.system()),
          loops.next(), listener, 1 << 20, Duration.ofSeconds(5)).start()) {
        assertEquals(Boolean.TRUE, connections.poll(10, TimeUnit.SECONDS));

        MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
            .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("test").build());

        assertEquals(Boolean.FALSE, connections.poll(2, TimeUnit.SECONDS), "not closed within 2 s of the revocation");
      }
    } finally {
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /**
   * A standalone relay given {@code --hub} polls the hub's revocations with its hub-role
   * certificate: a revoked cluster is cut within 2 s of the admin call, the list stays in force
   * while the hub is down, and a relay restarted with the hub down starts from its cache.
   */
  @Test
  void aStandaloneRelayLearnsRevocationsFromTheHubAndKeepsThemWhileTheHubIsDown() throws Exception {
    EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    Path cache = dir.resolve("relay").resolve("hub-revocations.json");
    java.nio.file.Files.createDirectories(cache.getParent());
    SimpleMeterRegistry relayMeters = new SimpleMeterRegistry();
    HubFixture hub = new HubFixture(dir.resolve("hub"));
    boolean hubUp = true;
    TlsCredentials relayCredentials = hub.issue(Role.HUB, "relay");
    TlsCredentials west = hub.issue(Role.CLUSTER, "west");
    HostPort hubAddress = new HostPort("127.0.0.1", hub.port());
    HubRevocations fromHub = HubRevocations.start(HubChannels.open(hubAddress, relayCredentials,
        InstantSource.system()), hubAddress.toString(), cache, Duration.ofMillis(500), relayMeters);
    RelayServer relay = RelayServer.start(RelayConfig.defaults(new HostPort("127.0.0.1", 0)),
        RelayTls.server(new RenewableKeyManager(relayCredentials), InstantSource.system()), fromHub, relayMeters);
    BlockingQueue<Boolean> westConnections = new LinkedBlockingQueue<>();
    BlockingQueue<Boolean> eastConnections = new LinkedBlockingQueue<>();
    try (RelayClient westClient = client(relay.port(), west, loops, westConnections);
        RelayClient eastClient = client(relay.port(), hub.issue(Role.CLUSTER, "east"), loops, eastConnections)) {
      assertEquals(Boolean.TRUE, westConnections.poll(10, TimeUnit.SECONDS));
      assertEquals(Boolean.TRUE, eastConnections.poll(10, TimeUnit.SECONDS));

      MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
          .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("test").build());
      assertEquals(Boolean.FALSE, westConnections.poll(2, TimeUnit.SECONDS), "not closed within 2 s of the revocation");

      hub.close(); // the hub is down from here on
      hubUp = false;
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(
          () -> relayMeters.get("meshwire.relay.revocations.age").gauge().value() > 1.5);
      assertTrue(fromHub.isRevoked(west.leaf()), "the list learnt stays in force while the hub is down");
      assertEquals(List.of("east"), relay.connectedClusters(), "other clusters keep their connections");
    } finally {
      relay.close();
      fromHub.close();
      if (hubUp) {
        hub.close();
      }
    }

    // A relay restarted while the hub is down starts from its cache: west is refused at the handshake,
    // and the list's age counts from the cache's last write (the hub last answered over 1.5 s ago), not from 0.
    SimpleMeterRegistry restartedMeters = new SimpleMeterRegistry();
    HubRevocations restarted = HubRevocations.start(HubChannels.open(hubAddress, relayCredentials,
        InstantSource.system()), hubAddress.toString(), cache, Duration.ofMillis(500), restartedMeters);
    double ageAtRestart = restartedMeters.get("meshwire.relay.revocations.age").gauge().value();
    assertTrue(ageAtRestart >= 1.5, "age after a restart without the hub: " + ageAtRestart + " s");
    RelayServer again = RelayServer.start(RelayConfig.defaults(new HostPort("127.0.0.1", 0)),
        RelayTls.server(new RenewableKeyManager(relayCredentials), InstantSource.system()), restarted,
        restartedMeters);
    try (RelayClient westClient = client(again.port(), west, loops, new LinkedBlockingQueue<>())) {
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(
          () -> restartedMeters.get("meshwire.relay.handshakes").tag("result", "revoked").counter().count() >= 1);
      assertEquals(List.of(), again.connectedClusters());
    } finally {
      again.close();
      restarted.close();
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void onlyAdminAndHubCertificatesMayListRevocations() throws Exception {
    try (HubFixture hub = new HubFixture(dir)) {
      ListRevocationsRequest request = ListRevocationsRequest.getDefaultInstance();
      MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
          .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("stolen key").build());
      var listed = MeshAdminGrpc.newBlockingStub(hub.channel(hub.issue(Role.HUB, "relay"))).listRevocations(request);
      assertEquals(List.of("spiffe://test.mesh/cluster/west"),
          listed.getRevocationsList().stream().map(r -> r.getSpiffeId()).toList());
      assertEquals("stolen key", listed.getRevocations(0).getReason());
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> MeshAdminGrpc.newBlockingStub(hub.channel(hub.issue(Role.CLUSTER, "east"))).listRevocations(request));
      assertEquals(Status.Code.PERMISSION_DENIED, refused.getStatus().getCode());
    }
  }

  private static RelayClient client(int port, TlsCredentials credentials, EventLoopGroup loops,
      BlockingQueue<Boolean> connections) {
    return new RelayClient(new HostPort("127.0.0.1", port),
        RelayTls.client(new RenewableKeyManager(credentials), InstantSource.system()), loops.next(),
        new RelayClient.Listener() {
          @Override
          public void onDatagram(String source, ByteBuf payload) {}

          @Override
          public void onConnected(boolean connected) {
            connections.add(connected);
          }
        }, 1 << 20, Duration.ofSeconds(5)).start();
  }
}
