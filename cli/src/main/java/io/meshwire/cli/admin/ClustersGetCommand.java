package io.meshwire.cli.admin;

import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.Cluster;
import io.meshwire.proto.admin.v1.GetClusterRequest;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code ClustersGetCommand} is {@code meshwire clusters get}: every field of one cluster's record. */
@Command(name = "get", description = "Show every field of one cluster's record.")
public final class ClustersGetCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(paramLabel = "CLUSTER", description = "Cluster ID.")
  private String clusterId;

  @Override
  public void run() {
    Cluster cluster;
    try (AdminConnection hub = admin.connect()) {
      cluster = hub.call().getCluster(GetClusterRequest.newBuilder().setClusterId(clusterId).build());
    }
    if (admin.json()) {
      admin.printJson(cluster);
      return;
    }
    ClusterRecord r = cluster.getRecord();
    Map<String, String> labels = new TreeMap<>(cluster.getLabelsMap());
    Map<String, String> announced = new TreeMap<>(r.getLabelsMap());
    Table.fields()
        .row("CLUSTER", r.getClusterId())
        .row("CONNECTED", Cells.yesNo(cluster.getConnected()))
        .row("REVOKED", Cells.yesNo(cluster.getRevoked()))
        .row("LAST SEEN", cluster.hasLastSeen() ? Cells.time(cluster.getLastSeen()) : Cells.NONE)
        .row("GENERATION", r.getGeneration())
        .row("REVISION", r.getRevision())
        .row("ACCEPTED AT", r.hasAcceptedAt() ? Cells.time(r.getAcceptedAt()) : Cells.NONE)
        .row("WIREGUARD KEY", Base64.getEncoder().encodeToString(r.getWireguardPublicKey().toByteArray()))
        .row("WIREGUARD PORT", r.getWireguardListenPort())
        .row("ENDPOINTS", Cells.list(r.getGatewayEndpointsList()))
        .row("POD CIDRS", Cells.list(r.getPodCidrsList()))
        .row("SERVICE CIDRS", Cells.list(r.getServiceCidrsList()))
        .row("PEER CHANNEL", Cells.text(r.getPeerChannelAddress()))
        .row("LABELS", labels.isEmpty() ? Cells.NONE
            : labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")))
        .row("ANNOUNCED LABELS", announced.isEmpty() ? Cells.NONE
            : announced.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")))
        .row("AGENT VERSION", Cells.text(r.getAgentVersion()))
        .print(admin.out());
  }
}
