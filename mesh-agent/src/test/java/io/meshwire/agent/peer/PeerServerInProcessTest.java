package io.meshwire.agent.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.hub.InProcessIdentity;
import io.meshwire.proto.peer.v1.PeerGrpc;
import io.meshwire.proto.peer.v1.ProbeRequest;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogHistory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The peer server on an in-process transport (no sockets, no TLS handshake): what its interceptor
 * does with a caller without a cluster certificate, and with clusters in and out of the peer set
 * (certificates of a test CA presented through {@link InProcessIdentity}).
 */
class PeerServerInProcessTest {

  @Test
  void onlyClustersInTheCurrentPeerSetAreServedAndALeavingPeerIsRefusedOnItsNextCall() throws Exception {
    MeshCa ca = MeshCa.create("test", Duration.ofDays(30), InstantSource.system());
    String name = InProcessServerBuilder.generateName();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Set<String> peers = ConcurrentHashMap.newKeySet();
    peers.add("b");
    PeerServer server = PeerServer.start(InProcessServerBuilder.forName(name).directExecutor()
            .intercept(InProcessIdentity.server()), "a", new CatalogHistory(Catalog.empty("ua"), 10), peers::contains,
        Duration.ofHours(1), meters);
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      PeerGrpc.PeerBlockingStub asB = PeerGrpc.newBlockingStub(channel).withInterceptors(InProcessIdentity.as(
          List.of(ca.issue(new SpiffeId("test", Role.CLUSTER, "b"), Duration.ofDays(1)).certificate())));
      PeerGrpc.PeerBlockingStub asC = PeerGrpc.newBlockingStub(channel).withInterceptors(InProcessIdentity.as(
          List.of(ca.issue(new SpiffeId("test", Role.CLUSTER, "c"), Duration.ofDays(1)).certificate())));

      assertEquals("a", asB.probe(ProbeRequest.getDefaultInstance()).getClusterId());
      StatusRuntimeException c = assertThrows(StatusRuntimeException.class,
          () -> asC.probe(ProbeRequest.getDefaultInstance()));
      assertEquals(Status.Code.PERMISSION_DENIED, c.getStatus().getCode());

      peers.remove("b"); // revoked, or a policy no longer pairs a and b
      StatusRuntimeException b = assertThrows(StatusRuntimeException.class,
          () -> asB.probe(ProbeRequest.getDefaultInstance()));
      assertEquals(Status.Code.PERMISSION_DENIED, b.getStatus().getCode());
      assertEquals(2.0, meters.get("meshwire.agent.peer.auth.failures").tag("reason", "not_a_peer").counter().count());
    } finally {
      channel.shutdownNow();
      server.close();
    }
  }

  @Test
  void aCallerWithoutACertificateIsRefusedAndCounted() throws Exception {
    String name = InProcessServerBuilder.generateName();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    PeerServer server = PeerServer.start(InProcessServerBuilder.forName(name).directExecutor(), "a",
        new CatalogHistory(Catalog.empty("ua"), 10), peer -> true, Duration.ofHours(1), meters);
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> PeerGrpc.newBlockingStub(channel).probe(ProbeRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
      assertEquals(1.0, meters.get("meshwire.agent.peer.auth.failures").tag("reason", "no_certificate").counter().count());
    } finally {
      channel.shutdownNow();
      server.close();
    }
  }
}
