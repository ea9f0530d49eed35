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
        Optional.empty(), Optional.empty(), Optional.empty(), WEST_UP, linksProblem, Map.of()));
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
}
