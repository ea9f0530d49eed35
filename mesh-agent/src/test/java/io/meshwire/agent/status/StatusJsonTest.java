package io.meshwire.agent.status;

import static io.meshwire.agent.state.TestStates.peer;
import static io.meshwire.agent.state.TestStates.state;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.hub.HubState;
import io.meshwire.agent.wireguard.LinkHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@code /status} says about the hub session and how current the peers' records are. */
class StatusJsonTest {

  private static final Instant T = Instant.parse("2030-01-01T00:00:00Z");
  private static final List<LinkMonitor.PeerLink> WEST_UP = List.of(new LinkMonitor.PeerLink("west", LinkHealth.UP,
      Optional.of(T), Optional.of(Duration.ofSeconds(3)), Optional.empty(), 10, 20));

  private static String render(HubState hub, boolean caughtUp, Optional<String> linksProblem) {
    return StatusJson.render(new StatusJson.Snapshot("east", hub, caughtUp, state("mesh-1", 7, peer("west", 2)),
        Optional.empty(), Optional.empty(), Optional.empty(), List.of(), Optional.empty(), WEST_UP, linksProblem,
        Map.of()));
  }

  @Test
  void anObserveOnlyDataPlaneAndGatewayProblemsAreShown() {
    String json = StatusJson.render(new StatusJson.Snapshot("east", new HubState(HubState.Condition.CONNECTED, T, ""),
        false, state("", 0), Optional.empty(), Optional.of("state file corrupt"), Optional.of("state file corrupt"),
        List.of("net.ipv4.ip_forward=0: run sysctl -w net.ipv4.ip_forward=1"), Optional.empty(), List.of(),
        Optional.empty(), Map.of()));
    assertTrue(json.contains("\"data_plane_observe_only\":\"state file corrupt\""), json);
    assertTrue(json.contains("\"gateway_problems\":[\"net.ipv4.ip_forward=0: run sysctl -w net.ipv4.ip_forward=1\"]"),
        json);
  }

  @Test
  void aRevokedAgentSaysSoAndDoesNotPresentItsPeersAsCurrent() {
    String json = render(new HubState(HubState.Condition.REVOKED, T, "certificate of cluster east revoked"), true,
        Optional.empty());
    assertTrue(json.contains("\"hub_connected\":false"), json);
    assertTrue(json.contains("\"hub\":{\"condition\":\"REVOKED\",\"since\":\"2030-01-01T00:00:00Z\","
        + "\"detail\":\"certificate of cluster east revoked\"}"), json);
    assertTrue(json.contains("\"hub_view\":\"REVOKED\""), json);
  }

  @Test
  void peersAreCurrentOnlyWhileConnectedAndCaughtUp() {
    assertTrue(render(new HubState(HubState.Condition.CONNECTED, T, ""), true, Optional.empty())
        .contains("\"hub_view\":\"CURRENT\""));
    assertTrue(render(new HubState(HubState.Condition.CONNECTED, T, ""), false, Optional.empty())
        .contains("\"hub_view\":\"LAST_KNOWN\""));
    String outage = render(new HubState(HubState.Condition.UNREACHABLE, T, "UNAVAILABLE: io exception"), true,
        Optional.empty());
    assertTrue(outage.contains("\"hub_view\":\"LAST_KNOWN\""), outage);
    assertTrue(outage.contains("\"condition\":\"UNREACHABLE\",\"since\":\"2030-01-01T00:00:00Z\""), outage);
  }

  @Test
  void aFailingLinkObservationIsShown() {
    String json = render(new HubState(HubState.Condition.CONNECTED, T, ""), true, Optional.of("wg show: exit 1"));
    assertTrue(json.contains("\"links_problem\":\"wg show: exit 1\""), json);
  }

  @Test
  void eachPeerShowsItsPathAndWhenItEnteredItOrNullWithoutPathSelection() {
    var relayed = io.meshwire.agent.path.LinkPath.restored(io.meshwire.agent.path.Path.RELAYED, T,
        Duration.ofSeconds(5), T.plusSeconds(60), io.meshwire.agent.path.PathPolicy.defaults());
    String withPaths = StatusJson.render(new StatusJson.Snapshot("east",
        new HubState(HubState.Condition.CONNECTED, T, ""), true, state("mesh-1", 7, peer("west", 2)),
        Optional.empty(), Optional.empty(), Optional.empty(), List.of(), Optional.empty(), WEST_UP, Optional.empty(),
        Map.of(), Map.of("west", relayed), Map.of()));
    assertTrue(withPaths.contains("\"path\":\"relayed\",\"path_since\":\"2030-01-01T00:00:00Z\""), withPaths);

    String without = render(new HubState(HubState.Condition.CONNECTED, T, ""), true, Optional.empty());
    assertTrue(without.contains("\"path\":null,\"path_since\":null"), without);
  }

  @Test
  void aPeerCarriedOverARejoinShowsUntilWhenItIsKept() {
    String carried = StatusJson.render(new StatusJson.Snapshot("east",
        new HubState(HubState.Condition.CONNECTED, T, ""), true, state("mesh-1", 7, peer("west", 2)),
        Optional.empty(), Optional.empty(), Optional.empty(), List.of(), Optional.empty(), WEST_UP, Optional.empty(),
        Map.of(), Map.of(), Map.of("west", T.plusSeconds(900))));
    assertTrue(carried.contains("\"carried_until\":\"2030-01-01T00:15:00Z\""), carried);

    String listed = render(new HubState(HubState.Condition.CONNECTED, T, ""), true, Optional.empty());
    assertTrue(listed.contains("\"carried_until\":null"), listed);
  }
}
