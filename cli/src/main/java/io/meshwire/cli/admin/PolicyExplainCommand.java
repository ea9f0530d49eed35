package io.meshwire.cli.admin;

import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.ExplainPeeringRequest;
import io.meshwire.proto.admin.v1.ExplainPeeringResponse;
import io.meshwire.proto.policy.v1.PeeringMode;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code PolicyExplainCommand} is {@code meshwire policy explain A B}. */
@Command(name = "explain",
    description = "Why two clusters connect or not: labels, the policies of each direction, and what each agent reports.")
public final class PolicyExplainCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Parameters(index = "0", paramLabel = "A", description = "Cluster ID.")
  private String a;

  @Parameters(index = "1", paramLabel = "B", description = "Cluster ID.")
  private String b;

  @Override
  public void run() {
    ExplainPeeringResponse r;
    try (AdminConnection hub = admin.connect()) {
      r = hub.call().explainPeering(ExplainPeeringRequest.newBuilder().setClusterA(a).setClusterB(b).build());
    }
    if (admin.json()) {
      admin.printJson(r);
      return;
    }
    Table.fields()
        .row("PAIR", a + " <-> " + b)
        .row("DECISION", r.getMode() == PeeringMode.PEERING_MODE_DENY ? "not connected" : PolicyYaml.mode(r.getMode()))
        .row("LABELS " + a, labels(r.getLabelsAMap()))
        .row("LABELS " + b, labels(r.getLabelsBMap()))
        .row("DEFAULT PEERING", r.getDefaultPeering())
        .row(a + " REPORTS", r.hasAReports() ? link(r.getAReports()) : "nothing about " + b)
        .row(b + " REPORTS", r.hasBReports() ? link(r.getBReports()) : "nothing about " + a)
        .print(admin.out());
    r.getReasonsList().forEach(line -> admin.out().println("  " + line));
    admin.out().flush();
  }

  private static String labels(Map<String, String> labels) {
    return labels.isEmpty() ? Cells.NONE
        : new TreeMap<>(labels).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(","));
  }

  private static String link(PeerLinkStatus s) {
    return s.getState().name().replace("LINK_STATE_", "").toLowerCase(java.util.Locale.ROOT)
        + (s.getEndpoint().isEmpty() ? "" : " via " + s.getEndpoint());
  }
}
