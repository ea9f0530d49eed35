package io.meshwire.cli.admin;

import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.Cluster;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import java.time.Instant;
import java.util.Comparator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code ClustersListCommand} is {@code meshwire clusters list}: one row per cluster record. */
@Command(name = "list", description = "List the clusters that have a record on the hub.")
public final class ClustersListCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Override
  public void run() {
    ListClustersResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().listClusters(ListClustersRequest.getDefaultInstance());
    }
    if (admin.json()) {
      admin.printJson(response);
      return;
    }
    Instant now = admin.now();
    Table table = Table.withHeader(
        "CLUSTER", "CONNECTED", "REVOKED", "GENERATION", "REVISION", "ENDPOINTS", "POD CIDRS", "LAST SEEN");
    response.getClustersList().stream()
        .sorted(Comparator.comparing(c -> c.getRecord().getClusterId()))
        .forEach(c -> {
          ClusterRecord r = c.getRecord();
          table.row(r.getClusterId(), Cells.yesNo(c.getConnected()), Cells.yesNo(c.getRevoked()), r.getGeneration(),
              r.getRevision(), Cells.list(r.getGatewayEndpointsList()), Cells.list(r.getPodCidrsList()),
              lastSeen(c, now));
        });
    table.print(admin.out());
  }

  private static String lastSeen(Cluster c, Instant now) {
    return c.hasLastSeen() ? Cells.age(c.getLastSeen(), now) + " ago" : Cells.NONE;
  }
}
