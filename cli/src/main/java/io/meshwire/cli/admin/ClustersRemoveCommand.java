package io.meshwire.cli.admin;

import io.meshwire.proto.admin.v1.RemoveClusterRequest;
import io.meshwire.proto.admin.v1.RemoveClusterResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code ClustersRemoveCommand} is {@code meshwire clusters remove}: deletes one record. */
@Command(
    name = "remove",
    description = {
      "Remove a cluster's record; the other clusters tear their tunnels to it down.",
      "The cluster may announce again with its certificate; to keep it out, use 'meshwire revoke'."
    })
public final class ClustersRemoveCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(paramLabel = "CLUSTER", description = "Cluster ID.")
  private String clusterId;

  @Override
  public void run() {
    RemoveClusterResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().removeCluster(RemoveClusterRequest.newBuilder().setClusterId(clusterId).build());
    }
    if (admin.json()) {
      admin.printJson(response);
    } else {
      admin.out().println("removed " + clusterId + " at revision " + response.getRevision());
      admin.out().flush();
    }
  }
}
