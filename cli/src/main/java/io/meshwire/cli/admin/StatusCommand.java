package io.meshwire.cli.admin;

import io.meshwire.cli.Table;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.MeshStatus;
import io.meshwire.proto.rendezvous.v1.LinkPath;
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
          + "per direction: FROM's view of its tunnel to TO. PATH is direct, relayed or trying (- from an "
          + "agent without path selection); SWITCHED is how long ago the link last changed path."
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
    Table table = Table.withHeader("FROM", "TO", "STATE", "PATH", "SWITCHED", "HANDSHAKE AGE", "ENDPOINT", "RX", "TX");
    status.getLinksList().forEach(link -> {
      PeerLinkStatus s = link.getStatus();
      // UNSPECIFIED: an agent without path selection (older, or no relays listed).
      String path = s.getPath() == LinkPath.LINK_PATH_UNSPECIFIED ? Cells.NONE
          : Cells.enumValue(s.getPath()).toLowerCase(java.util.Locale.ROOT);
      table.row(link.getFromClusterId(), link.getToClusterId(), Cells.enumValue(s.getState()), path,
          s.hasPathSince() ? Cells.age(s.getPathSince(), now) : Cells.NONE,
          s.hasLatestHandshake() ? Cells.age(s.getLatestHandshake(), now) : Cells.NONE,
          Cells.text(s.getEndpoint()), Cells.bytes(s.getRxBytes()), Cells.bytes(s.getTxBytes()));
    });
    table.print(out);
  }
}
