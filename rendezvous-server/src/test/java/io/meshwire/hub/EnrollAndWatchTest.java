package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceResponse;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two clusters enroll with join tokens over real TLS, announce, and see each other. */
class EnrollAndWatchTest {

  @TempDir Path data;

  @Test
  void twoEnrolledClustersSeeEachOtherThroughWatch() throws Exception {
    try (HubFixture hub = new HubFixture(data)) {
      TlsCredentials east = hub.enroll("east");
      TlsCredentials west = hub.enroll("west");

      AnnounceResponse a = RendezvousGrpc.newBlockingStub(hub.channel(east))
          .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 1)).build());
      AnnounceResponse b = RendezvousGrpc.newBlockingStub(hub.channel(west))
          .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("west", 2, 1)).build());
      assertEquals(1, a.getRevision());
      assertEquals(2, b.getRevision());
      assertFalse(a.getMeshUid().isEmpty());

      try (WatchRecorder eastWatch = new WatchRecorder(hub.channel(east), 0, "");
           WatchRecorder westWatch = new WatchRecorder(hub.channel(west), 0, "")) {
        for (WatchRecorder w : new WatchRecorder[] {eastWatch, westWatch}) {
          WatchEvent caughtUp = w.awaitCaughtUp();
          assertEquals(2, caughtUp.getRevision());
          WatchEvent hello = w.events.get(0);
          assertTrue(hello.getHello().getSnapshotFollows());
          assertEquals(a.getMeshUid(), hello.getHello().getMeshUid());
          var snapshot = w.ofCase(WatchEvent.EventCase.SNAPSHOT);
          var ids = snapshot.stream().flatMap(e -> e.getSnapshot().getClustersList().stream())
              .map(c -> c.getClusterId()).sorted().toList();
          assertEquals(java.util.List.of("east", "west"), ids);
          assertTrue(snapshot.get(snapshot.size() - 1).getSnapshot().getLast());
        }

        // A change after the snapshot arrives as a delta at every watcher.
        RendezvousGrpc.newBlockingStub(hub.channel(west))
            .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("west", 2, 2)).build());
        WatchEvent update = eastWatch.await(e -> e.hasClusterUpserted()
            && e.getClusterUpserted().getRecord().getGeneration() == 2);
        assertEquals(3, update.getRevision());
        assertEquals("10.2.0.0/16", update.getClusterUpserted().getRecord().getPodCidrs(0));
        westWatch.await(e -> e.getRevision() == 3 && e.hasClusterUpserted());
      }
    }
  }
}
