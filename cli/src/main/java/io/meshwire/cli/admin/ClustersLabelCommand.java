package io.meshwire.cli.admin;

import io.meshwire.proto.admin.v1.SetClusterLabelsRequest;
import io.meshwire.proto.admin.v1.SetClusterLabelsResponse;
import java.util.List;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ClustersLabelCommand} is {@code meshwire clusters label CLUSTER env=prod team-}. */
@Command(
    name = "label",
    description = {
      "Set (key=value) or remove (key-) a cluster's labels, which peering policies select on.",
      "Labels belong to the operator: what an agent announces never grants access."
    })
public final class ClustersLabelCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(index = "0", paramLabel = "CLUSTER", description = "Cluster ID.")
  private String clusterId;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "LABEL", description = "key=value or key-.")
  private List<String> labels;

  @Option(names = "--force", description = "Apply even when no two clusters could connect afterwards.")
  private boolean force;

  @Override
  public void run() {
    LabelArgs args = LabelArgs.parse(labels);
    SetClusterLabelsResponse response;
    try (AdminConnection hub = admin.connect()) {
      response = hub.call().setClusterLabels(SetClusterLabelsRequest.newBuilder().setClusterId(clusterId)
          .putAllSet(args.set()).addAllRemove(args.remove()).setForce(force).build());
    }
    if (admin.json()) {
      admin.printJson(response);
    } else {
      admin.out().println(clusterId + " labels " + new TreeMap<>(response.getLabelsMap()) + " at revision "
          + response.getRevision() + ", agents changed " + response.getAffectedAgents());
      admin.out().flush();
    }
  }
}
