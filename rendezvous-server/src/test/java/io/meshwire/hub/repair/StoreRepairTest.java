package io.meshwire.hub.repair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.HubFixture;
import io.meshwire.hub.server.HubStartException;
import io.meshwire.proto.admin.v1.Cluster;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import io.meshwire.proto.rendezvous.v1.PublishViewsRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.validation.WireValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store holding a record the hub can no longer read back (written under a looser
 * {@code max-cidr-prefix}): the hub refuses to start and names the entry, the reason and the
 * repair command; the repair quarantines that cluster and the hub starts with everything else.
 */
class StoreRepairTest {

  @TempDir Path data;
  HubFixture hub;

  @BeforeEach
  void storeWithARecordTheDefaultPolicyRefuses() throws Exception {
    hub = new HubFixture(data, Map.of("max-cidr-prefix", "/4"));
    TlsCredentials east = hub.enroll("east");
    TlsCredentials west = hub.enroll("west");
    announce(west, HubFixture.record("west", 2, 1));
    announce(east, HubFixture.record("east", 1, 1).toBuilder().setPodCidrs(0, "16.0.0.0/4").build());
    RendezvousGrpc.newBlockingStub(hub.channel(east)).publishViews(PublishViewsRequest.newBuilder()
        .addViews(PeerView.newBuilder().setSubjectClusterId("west").setGeneration(1)
            .addMappings(CidrMapping.newBuilder().setOriginal("10.2.0.0/16").setSeenAs("10.99.0.0/16")))
        .build());
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  private void announce(TlsCredentials who, ClusterRecord record) {
    RendezvousGrpc.newBlockingStub(hub.channel(who)).announce(AnnounceRequest.newBuilder().setRecord(record).build());
  }

  private List<String> clusterIds() {
    return MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin())).listClusters(ListClustersRequest.getDefaultInstance())
        .getClustersList().stream().map(Cluster::getRecord).map(ClusterRecord::getClusterId).toList();
  }

  @Test
  void unreadableRecordStopsTheHubNamingEntryReasonAndRepairCommand() {
    HubStartException e = assertThrows(HubStartException.class, () -> hub.restart(Map.of("max-cidr-prefix", "/8")));
    String message = e.getMessage();
    assertTrue(message.contains("stored entry at revision 2 (cluster \"east\") cannot be read back: "
        + "record.pod_cidrs[0]: 16.0.0.0/4 is wider than /8"), message);
    assertTrue(message.contains("meshwire hub repair --data-dir " + data + " --drop-cluster east"), message);
  }

  @Test
  void repairQuarantinesTheClusterAndTheHubStartsWithTheRest() throws Exception {
    assertThrows(HubStartException.class, () -> hub.restart(Map.of("max-cidr-prefix", "/8")));

    StoreRepair.Outcome outcome = StoreRepair.run(data, Set.of("east"), WireValidator.defaults(), Instant.now());

    assertEquals(List.of("east"), outcome.dropped());
    assertEquals(1, outcome.clustersKept());
    assertEquals(0, outcome.viewsKept(), "east's view of west goes with east");
    try (Stream<Path> kept = Files.list(outcome.backup())) {
      assertTrue(kept.anyMatch(f -> f.getFileName().toString().endsWith(".seg")), "the old store is kept aside");
    }
    hub.restart();
    assertEquals(List.of("west"), clusterIds());
    // The quarantined cluster comes back with a valid announce (its certificate is still good).
    announce(hub.enroll("east"), HubFixture.record("east", 1, 5));
    assertEquals(List.of("east", "west"), clusterIds());
    hub.restart();
    assertEquals(List.of("east", "west"), clusterIds());
  }

  @Test
  void repairOfAClusterTheStoreDoesNotHoldChangesNothing() throws Exception {
    hub.close();
    StoreRepair.RepairException e = assertThrows(StoreRepair.RepairException.class,
        () -> StoreRepair.run(data, Set.of("north"), WireValidator.defaults(), Instant.now()));
    assertTrue(e.getMessage().contains("cluster \"north\" has no record or view"), e.getMessage());
    hub.restart(Map.of("max-cidr-prefix", "/4"));
    assertEquals(List.of("east", "west"), clusterIds());
  }

  @Test
  void repairThatLeavesAnotherUnreadableRecordNamesItAndChangesNothing() throws Exception {
    hub.close();
    StoreRepair.RepairException e = assertThrows(StoreRepair.RepairException.class,
        () -> StoreRepair.run(data, Set.of("west"), WireValidator.defaults(), Instant.now()));
    assertTrue(e.getMessage().contains("cluster \"east\": record.pod_cidrs[0]"), e.getMessage());
    hub.restart(Map.of("max-cidr-prefix", "/4"));
    assertEquals(List.of("east", "west"), clusterIds());
  }

  @Test
  void repairWhileTheHubRunsIsRefused() {
    StoreRepair.RepairException e = assertThrows(StoreRepair.RepairException.class,
        () -> StoreRepair.run(data, Set.of("east"), WireValidator.defaults(), Instant.now()));
    assertTrue(e.getMessage().contains("is a hub still running on it?"), e.getMessage());
  }
}
