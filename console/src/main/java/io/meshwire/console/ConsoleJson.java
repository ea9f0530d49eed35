package io.meshwire.console;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.meshwire.observability.JsonString;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.Cluster;
import io.meshwire.proto.admin.v1.LinkStatus;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.admin.v1.MeshStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code ConsoleJson} writes the console's state as the one JSON document the page renders. The
 * hub's messages go in as proto JSON ({@code JsonFormat}, field names in lowerCamelCase), so a field
 * added to the admin API later reaches the page without a change here. Stateless.
 *
 * <pre>{@code
 * {"hub": {"address", "connection", "detail", "since"},
 *  "stale": bool,                       // the mesh below is the last one fetched, not current
 *  "mesh": null | {"fetchedAt", "meshUid", "revision", "connectedAgents",
 *                  "clusters": [Cluster],
 *                  "links": [{"report": LinkStatus, "lastChange", "lastChangeObserved"}]},
 *  "audit": [AuditEvent],               // newest first
 *  "notInAdminApi": [field, ...]}       // what the page would show if the hub offered it
 * }</pre>
 *
 * Everything is written on one line: the document goes out as one server-sent event.
 */
final class ConsoleJson {

  /** Per-cluster facts the issue asks for that the hub's admin API does not offer (yet). */
  static final List<String> NOT_IN_ADMIN_API = List.of("views", "certificateExpiry", "connectedReplica");

  /** Zero values are left out (the page reads a missing field as zero): 200 clusters make 39,800 links. */
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();

  private ConsoleJson() {}

  static String state(String hubAddress, HubFeed.HubState hub, ListClustersResponse clusters, MeshStatus status,
      Instant fetchedAt, Map<String, LinkChanges.Change> changes, List<AuditEvent> audit) {
    StringBuilder b = new StringBuilder(4096);
    b.append("{\"hub\":{\"address\":");
    JsonString.appendQuoted(b, hubAddress);
    b.append(",\"connection\":\"").append(hub.connection().name()).append("\",\"detail\":");
    JsonString.appendQuoted(b, hub.detail());
    b.append(",\"since\":\"").append(hub.since()).append("\"}");
    boolean haveMesh = clusters != null && status != null;
    b.append(",\"stale\":").append(haveMesh && hub.connection() != HubFeed.Connection.CONNECTED);
    b.append(",\"mesh\":");
    if (!haveMesh) {
      b.append("null");
    } else {
      b.append("{\"fetchedAt\":\"").append(fetchedAt).append("\",\"meshUid\":");
      JsonString.appendQuoted(b, clusters.getMeshUid());
      b.append(",\"revision\":").append(Long.toUnsignedString(Math.max(clusters.getRevision(), status.getRevision())));
      b.append(",\"connectedAgents\":").append(Integer.toUnsignedString(status.getConnectedAgents()));
      b.append(",\"clusters\":[");
      List<Cluster> cs = clusters.getClustersList();
      for (int i = 0; i < cs.size(); i++) {
        b.append(i == 0 ? "" : ",").append(proto(cs.get(i)));
      }
      b.append("],\"links\":[");
      List<LinkStatus> ls = status.getLinksList();
      for (int i = 0; i < ls.size(); i++) {
        LinkStatus l = ls.get(i);
        LinkChanges.Change change = changes.get(HubFeed.linkKey(l.getFromClusterId(), l.getToClusterId()));
        b.append(i == 0 ? "" : ",").append("{\"report\":").append(proto(l));
        if (change != null) {
          b.append(",\"lastChange\":\"").append(change.at()).append("\",\"lastChangeObserved\":").append(change.observed());
        }
        b.append('}');
      }
      b.append("]}");
    }
    b.append(",\"audit\":[");
    for (int i = 0; i < audit.size(); i++) {
      b.append(i == 0 ? "" : ",").append(proto(audit.get(i)));
    }
    b.append("],\"notInAdminApi\":[");
    for (int i = 0; i < NOT_IN_ADMIN_API.size(); i++) {
      b.append(i == 0 ? "" : ",");
      JsonString.appendQuoted(b, NOT_IN_ADMIN_API.get(i));
    }
    return b.append("]}").toString();
  }

  private static String proto(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields without a type registry fail; the admin API has none.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
    }
  }
}
