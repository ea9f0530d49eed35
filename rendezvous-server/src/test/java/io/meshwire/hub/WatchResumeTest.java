package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resuming a Watch from a revision: exactly the missed events, or a snapshot below the floor. */
class WatchResumeTest {

  @TempDir Path data;

  private static void announce(HubFixture hub, TlsCredentials who, String id, int n, long generation) {
    RendezvousGrpc.newBlockingStub(hub.channel(who))
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record(id, n, generation)).build());
  }

  @Test
  void resumesFromRevisionWithExactlyTheMissedEventsAndNoSnapshot() throws Exception {
    try (HubFixture hub = new HubFixture(data)) {
      TlsCredentials east = hub.enroll("east");
      TlsCredentials west = hub.enroll("west");
      announce(hub, east, "east", 1, 1);
      long resumeFrom;
      String meshUid;
      try (WatchRecorder first = new WatchRecorder(hub.channel(east), 0, "")) {
        resumeFrom = first.awaitCaughtUp().getRevision();
        meshUid = first.events.get(0).getHello().getMeshUid();
      }
      // Five changes while east is away.
      for (int g = 1; g <= 5; g++) {
        announce(hub, west, "west", 2, g);
      }
      try (WatchRecorder again = new WatchRecorder(hub.channel(east), resumeFrom, meshUid)) {
        WatchEvent caughtUp = again.awaitCaughtUp();
        assertEquals(resumeFrom + 5, caughtUp.getRevision());
        assertFalse(again.events.get(0).getHello().getSnapshotFollows());
        assertTrue(again.ofCase(WatchEvent.EventCase.SNAPSHOT).isEmpty(), "no snapshot on resume");
        List<WatchEvent> missed = again.ofCase(WatchEvent.EventCase.CLUSTER_UPSERTED);
        assertEquals(5, missed.size());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L),
            missed.stream().map(e -> e.getClusterUpserted().getRecord().getGeneration()).toList());
      }
    }
  }

  @Test
  void watcherBelowTheLogFloorGetsASnapshot() throws Exception {
    try (HubFixture hub = new HubFixture(data, Map.of("retained-entries", "16", "checkpoint-interval", "8", "announce-rate", "1000/1s"))) {
      TlsCredentials east = hub.enroll("east");
      TlsCredentials west = hub.enroll("west");
      announce(hub, east, "east", 1, 1);
      for (int g = 1; g <= 40; g++) {
        announce(hub, west, "west", 2, g);
      }
      try (WatchRecorder behind = new WatchRecorder(hub.channel(east), 1, "")) {
        WatchEvent caughtUp = behind.awaitCaughtUp();
        assertEquals(41, caughtUp.getRevision());
        assertTrue(behind.events.get(0).getHello().getSnapshotFollows());
        assertTrue(behind.events.get(0).getHello().getFloorRevision() > 1);
        var records = behind.ofCase(WatchEvent.EventCase.SNAPSHOT).stream()
            .flatMap(e -> e.getSnapshot().getClustersList().stream()).toList();
        assertEquals(2, records.size());
        assertEquals(40, records.stream().filter(r -> r.getClusterId().equals("west")).findFirst()
            .orElseThrow().getGeneration());
      }
      // Restarted on the same data: resume still works from a retained revision.
      hub.restart();
      try (WatchRecorder resumed = new WatchRecorder(hub.channel(east), 38, "")) {
        assertEquals(41, resumed.awaitCaughtUp().getRevision());
        assertTrue(resumed.ofCase(WatchEvent.EventCase.SNAPSHOT).isEmpty());
        assertEquals(3, resumed.ofCase(WatchEvent.EventCase.CLUSTER_UPSERTED).size());
      }
    }
  }

  @Test
  void aDifferentMeshUidGetsASnapshot() throws Exception {
    try (HubFixture hub = new HubFixture(data)) {
      TlsCredentials east = hub.enroll("east");
      announce(hub, east, "east", 1, 1);
      try (WatchRecorder w = new WatchRecorder(hub.channel(east), 1, "some-other-mesh")) {
        w.awaitCaughtUp();
        assertTrue(w.events.get(0).getHello().getSnapshotFollows());
      }
    }
  }
}
