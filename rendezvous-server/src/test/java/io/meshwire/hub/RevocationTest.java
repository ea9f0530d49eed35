package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.GetClusterRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RemovalReason;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Revoking a cluster ends its stream within 1 s and removes it for everyone else. */
class RevocationTest {

  @TempDir Path data;

  @Test
  void revokedStreamEndsWithinOneSecondAndOthersSeeTheRemoval() throws Exception {
    try (HubFixture hub = new HubFixture(data)) {
      TlsCredentials east = hub.enroll("east");
      TlsCredentials west = hub.enroll("west");
      RendezvousGrpc.newBlockingStub(hub.channel(east))
          .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 1)).build());
      // One connection for west's calls: its later calls reuse the identity verified on the first.
      var westChannel = hub.channel(west);
      RendezvousGrpc.newBlockingStub(westChannel)
          .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("west", 2, 1)).build());
      try (WatchRecorder eastWatch = new WatchRecorder(hub.channel(east), 0, "");
           WatchRecorder westWatch = new WatchRecorder(westChannel, 0, "")) {
        eastWatch.awaitCaughtUp();
        westWatch.awaitCaughtUp();

        var admin = MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()));
        long revokedAt = System.nanoTime();
        admin.revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("compromised").build());

        Status westEnd = westWatch.awaitClosed(Duration.ofSeconds(1));
        assertEquals(Status.Code.PERMISSION_DENIED, westEnd.getCode());
        assertTrue(System.nanoTime() - revokedAt < Duration.ofSeconds(1).toNanos());

        // The next call on the same TLS connection is refused too (revocation is checked on every call).
        var again = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
            () -> RendezvousGrpc.newBlockingStub(westChannel)
                .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("west", 2, 2)).build()));
        assertEquals(Status.Code.UNAUTHENTICATED, again.getStatus().getCode());
        assertTrue(again.getStatus().getDescription().contains("revoked"), again.getStatus().toString());

        WatchEvent removal = eastWatch.await(WatchEvent::hasClusterRemoved);
        assertEquals("west", removal.getClusterRemoved().getClusterId());
        assertEquals(RemovalReason.REMOVAL_REASON_REVOKED, removal.getClusterRemoved().getReason());

        var notFound = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
            () -> admin.getCluster(GetClusterRequest.newBuilder().setClusterId("west").build()));
        assertEquals(Status.Code.NOT_FOUND, notFound.getStatus().getCode());
        var audit = admin.withDeadlineAfter(2, java.util.concurrent.TimeUnit.SECONDS)
            .watchAudit(WatchAuditRequest.getDefaultInstance());
        boolean sawRevocation = false;
        while (!sawRevocation && audit.hasNext()) {
          var event = audit.next();
          sawRevocation = event.getAction().equals("cluster.revoked") && event.getSubject().equals("west");
        }
        assertTrue(sawRevocation, "audit stream shows the revocation");
      }
    }
  }
}
