package io.meshwire.cli.admin;

import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.admin.v1.RevokeClusterResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code RevokeCommand} is {@code meshwire revoke}: shuts a cluster out of the mesh. */
@Command(
    name = "revoke",
    description = {
      "Revoke a cluster's certificates and remove it from the mesh.",
      "The hub refuses the cluster's certificates from now on, closes its streams, revokes its unused "
          + "join tokens and removes its record, so every other cluster tears its tunnel down. Enrolling "
          + "it again takes a new join token."
    })
public final class RevokeCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(paramLabel = "CLUSTER", description = "Cluster ID.")
  private String clusterId;

  @Option(names = "--reason", paramLabel = "TEXT", defaultValue = "",
      description = "Why, kept in the audit log (at most 256 characters).")
  private String reason;

  @Override
  public void run() {
    RevokeClusterResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().revokeCluster(
          RevokeClusterRequest.newBuilder().setClusterId(clusterId).setReason(reason).build());
    }
    if (admin.json()) {
      admin.printJson(response);
    } else {
      admin.out().println("revoked " + clusterId + " at revision " + response.getRevision());
      admin.out().flush();
    }
  }
}
