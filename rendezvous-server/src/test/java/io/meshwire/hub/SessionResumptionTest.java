package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.ManagedChannel;
import io.meshwire.certs.tls.HubChannels;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent that reconnects over the same client TLS context resumes its TLS 1.3 session (no full
 * handshake), also on a hub process started again on the same data, and is still the cluster its
 * certificate names.
 */
class SessionResumptionTest {

  @TempDir Path data;

  @Test
  void reconnectResumesTheSessionAlsoAfterTheHubRestarted() throws Exception {
    TlsCredentials east;
    SslContext tls;
    HostPort address;
    try (HubFixture hub = new HubFixture(data)) {
      east = hub.enroll("east");
      tls = HubChannels.tls(east, hub.ca().certificate(), InstantSource.system());
      address = new HostPort("127.0.0.1", hub.port());
      announce(address, tls, 1);
      assertEquals(0.0, resumed(hub), "the first connection makes a full handshake");
      announce(address, tls, 2);
      assertEquals(1.0, resumed(hub), "the second connection resumes the first one's session");
    }
    // A new process on the same data and port (fresh metrics): the ticket of the first one still works.
    try (HubFixture restarted = new HubFixture(data, Map.of("listen", address.toString()))) {
      announce(address, tls, 3);
      assertEquals(1.0, resumed(restarted), "the ticket of the hub before the restart resumed");
      assertEquals(0.0, restarted.meters().get("meshwire.hub.tls.tickets.rejected").functionCounter().count());
      // A client without the session (a new context) still gets in, with a full handshake.
      announce(address, HubChannels.tls(east, restarted.ca().certificate(), InstantSource.system()), 4);
      assertEquals(1.0, resumed(restarted));
    }
  }

  /** Announces east's record at {@code generation} over a new connection, then closes it. */
  private static void announce(HostPort hub, SslContext tls, long generation) throws InterruptedException {
    ManagedChannel channel = HubChannels.open(hub, tls);
    try {
      RendezvousGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, generation)).build());
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static double resumed(HubFixture hub) {
    return hub.meters().get("meshwire.hub.tls.resumed").functionCounter().count();
  }
}
