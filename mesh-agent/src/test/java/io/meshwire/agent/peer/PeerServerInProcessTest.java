package io.meshwire.agent.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.meshwire.proto.peer.v1.PeerGrpc;
import io.meshwire.proto.peer.v1.ProbeRequest;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogHistory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The peer server on an in-process transport (no sockets, no TLS): what its interceptor does with a
 * caller that has no cluster certificate.
 */
class PeerServerInProcessTest {

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
