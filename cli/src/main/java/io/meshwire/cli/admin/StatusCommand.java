package io.meshwire.cli.admin;

import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.MeshStatus;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import java.io.PrintWriter;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code StatusCommand} is {@code meshwire status}: the link matrix as the agents last reported it,
 * one row per directed link (what {@code FROM} sees of its tunnel to {@code TO}).
 */
@Command(
    name = "status",
    description = {
      "Show the mesh's link matrix as the agents last reported it.",
      "A line with the mesh UID, the hub's revision and the number of connected agents, then one row "
          + "per direction: FROM's view of its tunnel to TO."
    })
public final class StatusCommand implements Runnable {

  @Mixin private AdminOptions admin;

  @Override
  public void run() {
    MeshStatus status;
    try (AdminConnection hub = admin.connect()) {
      status = hub.call().getMeshStatus(GetMeshStatusRequest.getDefaultInstance());
    }
    if (admin.json()) {
      admin.printJson(status);
      return;
    }
    PrintWriter out = admin.out();
    out.println("mesh_uid " + Cells.text(status.getMeshUid()) + "   revision " + status.getRevision()
        + "   connected agents " + status.getConnectedAgents());
    Instant now = admin.now();
    Table table = Table.withHeader("FROM", "TO", "STATE", "HANDSHAKE AGE", "ENDPOINT", "RX", "TX");
    status.getLinksList().forEach(link -> {
      PeerLinkStatus s = link.getStatus();
      table.row(link.getFromClusterId(), link.getToClusterId(), Cells.enumValue(s.getState()),
          s.hasLatestHandshake() ? Cells.age(s.getLatestHandshake(), now) : Cells.NONE,
          Cells.text(s.getEndpoint()), Cells.bytes(s.getRxBytes()), Cells.bytes(s.getTxBytes()));
    });
    table.print(out);
  }
}
