package io.meshwire.loadtests.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.proto.rendezvous.v1.CaughtUp;
import io.meshwire.proto.rendezvous.v1.ClusterUpserted;
import io.meshwire.proto.rendezvous.v1.Hello;
import io.meshwire.proto.rendezvous.v1.SnapshotChunk;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import org.junit.jupiter.api.Test;

class EventSummaryTest {

  @Test
  void helloCarriesMeshUidAndWhetherASnapshotFollows() {
    byte[] bytes = WatchEvent.newBuilder().setHello(Hello.newBuilder().setMeshUid("uid-1").setHeadRevision(9)
        .setSnapshotFollows(true)).build().toByteArray();

    EventSummary s = EventSummary.parse(bytes);

    assertEquals(EventSummary.Kind.HELLO, s.kind());
    assertEquals("uid-1", s.meshUid());
    assertTrue(s.snapshotFollows());
    assertEquals(bytes.length, s.bytes());
  }

  @Test
  void lastSnapshotChunkIsToldApartFromTheOthers() {
    SnapshotChunk.Builder chunk = SnapshotChunk.newBuilder().setIndex(3).setLast(true);
    chunk.addClusters(AgentRecords.record(1, 1)).addClusters(AgentRecords.record(2, 1));
    EventSummary last = EventSummary.parse(WatchEvent.newBuilder().setRevision(42).setSnapshot(chunk).build()
        .toByteArray());
    EventSummary middle = EventSummary.parse(WatchEvent.newBuilder().setRevision(42)
        .setSnapshot(SnapshotChunk.newBuilder().setIndex(1).addClusters(AgentRecords.record(3, 1))).build()
        .toByteArray());

    assertEquals(EventSummary.Kind.SNAPSHOT_CHUNK, last.kind());
    assertEquals(42, last.revision());
    assertTrue(last.lastChunk());
    assertEquals(false, middle.lastChunk());
  }

  @Test
  void changesAndMarkersKeepTheirRevision() {
    EventSummary change = EventSummary.parse(WatchEvent.newBuilder().setRevision(7)
        .setClusterUpserted(ClusterUpserted.newBuilder().setRecord(AgentRecords.record(5, 2))).build().toByteArray());
    EventSummary caughtUp = EventSummary.parse(WatchEvent.newBuilder().setRevision(8)
        .setCaughtUp(CaughtUp.getDefaultInstance()).build().toByteArray());

    assertEquals(EventSummary.Kind.CHANGE, change.kind());
    assertEquals(7, change.revision());
    assertEquals(EventSummary.Kind.CAUGHT_UP, caughtUp.kind());
    assertEquals(8, caughtUp.revision());
  }
}
