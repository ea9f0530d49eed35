package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.hub.HubFixture;
import io.meshwire.hub.server.HubStartException;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshwire hub repair}, run the way the hub's start-up error says, gets the hub started again. */
class HubRepairCommandTest {

  @TempDir Path data;

  @Test
  void theCommandTheHubNamesGetsItStartedAgain() throws Exception {
    try (HubFixture hub = new HubFixture(data, Map.of("max-cidr-prefix", "/4"))) {
      RendezvousGrpc.newBlockingStub(hub.channel(hub.enroll("east"))).announce(AnnounceRequest.newBuilder()
          .setRecord(HubFixture.record("east", 1, 1).toBuilder().setPodCidrs(0, "16.0.0.0/4")).build());
      RendezvousGrpc.newBlockingStub(hub.channel(hub.enroll("west"))).announce(AnnounceRequest.newBuilder()
          .setRecord(HubFixture.record("west", 2, 1)).build());
      HubStartException refused = assertThrows(HubStartException.class,
          () -> hub.restart(Map.of("max-cidr-prefix", "/8")));
      String command = refused.getMessage().substring(refused.getMessage().indexOf("meshwire hub repair"));
      command = command.substring(0, command.indexOf(';'));
      String[] args = command.substring("meshwire ".length()).split(" ");

      CliRun run = CliRun.of(args);

      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(run.out().startsWith("dropped east; kept 1 clusters and 0 views at revision "), run.out());
      hub.restart();
      var clusters = MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
          .listClusters(ListClustersRequest.getDefaultInstance()).getClustersList();
      assertEquals(1, clusters.size());
      assertEquals("west", clusters.get(0).getRecord().getClusterId());
    }
  }

  @Test
  void aClusterTheStoreDoesNotHoldFailsSayingSo() throws Exception {
    try (HubFixture hub = new HubFixture(data)) {
      hub.enroll("east");
    }
    CliRun run = CliRun.of("hub", "repair", "--data-dir", data.toString(), "--drop-cluster", "north");
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("meshwire: cluster \"north\" has no record or view in "), run.err());
  }
}
