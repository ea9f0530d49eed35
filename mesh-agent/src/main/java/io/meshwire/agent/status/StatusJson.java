package io.meshwire.agent.status;

import io.meshwire.agent.hub.HubState;
import io.meshwire.agent.ipam.PeerDecision;
import io.meshwire.agent.path.LinkPath;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.status.LinkMonitor.PeerLink;
import io.meshwire.observability.JsonString;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * {@code StatusJson} renders the agent's {@code /status} document: the hub session's condition
 * (connected, unreachable since, refused, revoked), sync state, and every observed peer's link with
 * how current its record is, its IPAM condition, how this cluster sees its pod CIDRs and, with
 * relays, its path ({@code trying}, {@code direct}, {@code relayed}) and when it entered it, and
 * for a peer carried over a rejoin, until when it is kept. A
 * pure function of a {@link Snapshot} taken by the agent.
 */
public final class StatusJson {

  private StatusJson() {}

  /**
   * What {@code /status} shows, taken at one moment.
   *
   * @param observeOnly why the agent leaves the data plane as it found it, empty while it manages it
   * @param gatewayProblems kernel settings the gateway needs that are wrong, each with its fix
   * @param reflectionJson the reflection status as JSON, or empty without reflection
   * @param decisions the last IPAM decision per peer
   * @param paths each link's path selection state, by peer; empty while path selection is off
   * @param carriedUntil peers kept from the mesh this agent left (rejoin) that the new hub does not
   *     list yet, with when they are dropped unless they announce there
   */
  public record Snapshot(String clusterId, HubState hub, boolean caughtUp, AgentState state,
      Optional<String> held, Optional<String> stateProblem, Optional<String> observeOnly, List<String> gatewayProblems,
      Optional<String> reflectionJson, List<PeerLink> links, Optional<String> linksProblem,
      Map<String, PeerDecision> decisions, Map<String, LinkPath> paths, Map<String, Instant> carriedUntil) {

    public Snapshot {
      paths = Map.copyOf(paths);
      carriedUntil = Map.copyOf(carriedUntil);
    }

    /** A snapshot without path selection (no relays): every peer's {@code path} is null. */
    public Snapshot(String clusterId, HubState hub, boolean caughtUp, AgentState state, Optional<String> held,
        Optional<String> stateProblem, Optional<String> observeOnly, List<String> gatewayProblems,
        Optional<String> reflectionJson, List<PeerLink> links, Optional<String> linksProblem,
        Map<String, PeerDecision> decisions) {
      this(clusterId, hub, caughtUp, state, held, stateProblem, observeOnly, gatewayProblems, reflectionJson, links,
          linksProblem, decisions, Map.of(), Map.of());
    }
  }

  /** The document, one line with a trailing newline. */
  public static String render(Snapshot s) {
    AgentState state = s.state();
    StringBuilder json = new StringBuilder();
    json.append("{\"cluster\":").append(JsonString.quote(s.clusterId()))
        .append(",\"hub_connected\":").append(s.hub().condition() == HubState.Condition.CONNECTED)
        .append(",\"hub\":{\"condition\":").append(JsonString.quote(s.hub().condition().name()))
        .append(",\"since\":").append(JsonString.quote(s.hub().since().toString()))
        .append(",\"detail\":").append(JsonString.quote(s.hub().detail())).append('}')
        .append(",\"caught_up\":").append(s.caughtUp())
        .append(",\"mesh_uid\":").append(JsonString.quote(state.meshUid()))
        .append(",\"revision\":").append(state.revision())
        .append(",\"state_written_at\":").append(JsonString.quote(state.writtenAt().toString()))
        .append(",\"held\":").append(s.held().map(JsonString::quote).orElse("null"))
        .append(",\"state_problem\":").append(s.stateProblem().map(JsonString::quote).orElse("null"))
        .append(",\"data_plane_observe_only\":").append(s.observeOnly().map(JsonString::quote).orElse("null"))
        .append(",\"gateway_problems\":").append(s.gatewayProblems().stream().map(JsonString::quote)
            .collect(Collectors.joining(",", "[", "]")))
        .append(",\"reflection\":").append(s.reflectionJson().orElse("null"))
        .append(",\"links_problem\":").append(s.linksProblem().map(JsonString::quote).orElse("null"))
        .append(",\"peers\":[");
    String hubView = hubView(s);
    List<PeerLink> observed = s.links();
    for (int i = 0; i < observed.size(); i++) {
      PeerLink l = observed.get(i);
      var peer = state.peers().get(l.clusterId());
      LinkPath path = s.paths().get(l.clusterId());
      Instant carriedUntil = s.carriedUntil().get(l.clusterId());
      if (i > 0) {
        json.append(',');
      }
      json.append("{\"cluster\":").append(JsonString.quote(l.clusterId()))
          .append(",\"state\":").append(JsonString.quote(l.health().name()))
          .append(",\"endpoint\":").append(l.endpoint()
              .map(e -> JsonString.quote(e.getAddress().getHostAddress() + ":" + e.getPort())).orElse("null"))
          .append(",\"handshake_age_seconds\":")
          .append(l.handshakeAge().map(d -> String.valueOf(d.toSeconds())).orElse("null"))
          .append(",\"rx_bytes\":").append(l.rxBytes())
          .append(",\"tx_bytes\":").append(l.txBytes())
          .append(",\"pod_cidrs\":").append(JsonString.quote(peer == null ? "" : peer.podCidrs().toString()))
          .append(",\"hub_view\":").append(JsonString.quote(hubView))
          .append(",\"view\":").append(viewStatus(s.decisions().get(l.clusterId())))
          .append(",\"seen_as\":").append(seenAs(state, l.clusterId()))
          .append(",\"path\":").append(path == null ? "null" : JsonString.quote(path.path().label()))
          .append(",\"path_since\":").append(path == null ? "null" : JsonString.quote(path.since().toString()))
          .append(",\"carried_until\":").append(carriedUntil == null ? "null" : JsonString.quote(carriedUntil.toString()))
          .append('}');
    }
    return json.append("]}\n").toString();
  }

  /**
   * How current the peers' records are from the hub's side: {@code CURRENT} while connected and
   * caught up, {@code LAST_KNOWN} from the state file otherwise, {@code REVOKED} or {@code REFUSED}
   * while the hub refuses this agent (its peers remove it, whatever the links show for now).
   */
  private static String hubView(Snapshot s) {
    return switch (s.hub().condition()) {
      case REVOKED, REFUSED -> s.hub().condition().name();
      case CONNECTED -> s.caughtUp() ? "CURRENT" : "LAST_KNOWN";
      case CONNECTING, UNREACHABLE -> "LAST_KNOWN";
    };
  }

  /** The peer's pod CIDRs as this cluster sees them (its view), as a JSON array. */
  private static String seenAs(AgentState s, String peer) {
    var record = s.peers().get(peer);
    if (record == null) {
      return "[]";
    }
    var view = s.myViews().get(peer);
    return record.podCidrs().stream()
        .map(c -> JsonString.quote((view == null ? c : view.seenAs(c)).toString()))
        .collect(Collectors.joining(",", "[", "]"));
  }

  /** The IPAM condition of one peer, e.g. {@code {"condition":"REMAPPED","detail":"..."}}; null before deciding. */
  private static String viewStatus(PeerDecision d) {
    return d == null ? "null"
        : "{\"condition\":" + JsonString.quote(d.condition()) + ",\"detail\":" + JsonString.quote(d.describe()) + "}";
  }
}
