package io.meshwire.hub.policy;

import static io.meshwire.hub.policy.PolicyFixtures.envGroupsAndShared;
import static io.meshwire.hub.policy.PolicyFixtures.labels;
import static io.meshwire.hub.policy.PolicyFixtures.policy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PeerDeltaTest {

  private static final List<String> FOUR = List.of("p1", "p2", "d1", "shared");
  private final Peering groups = new Peering(envGroupsAndShared(), PeeringDefault.ALLOW);

  @Test
  void relabellingOneClusterTouchesOnlyItAndTheGroupsItMovesBetween() {
    Peering after = groups.with(new PeeringChange.SetLabels("p2", Map.of("env", "dev")));
    Map<String, PeerDelta> deltas = PeerDelta.between(groups, FOUR, after, FOUR);
    assertEquals(Map.of(
        "p1", new PeerDelta(Map.of(), Set.of("p2")),
        "p2", new PeerDelta(Map.of("d1", PeeringMode.DIRECT), Set.of("p1")),
        "d1", new PeerDelta(Map.of("p2", PeeringMode.DIRECT), Set.of())), deltas);
  }

  @Test
  void addingADenyPolicyRemovesOnlyTheDeniedPairs() {
    Peering after = groups.with(new PeeringChange.ApplyPolicy(
        policy("no-dev", labels(Map.of("env", "dev")), Selector.all(), PeeringMode.DENY)));
    assertEquals(Map.of("d1", new PeerDelta(Map.of(), Set.of("shared")),
        "shared", new PeerDelta(Map.of(), Set.of("d1"))), PeerDelta.between(groups, FOUR, after, FOUR));
  }

  @Test
  void deletingEveryPolicyRestoresTheFullMesh() {
    Peering after = groups;
    for (String name : List.of("prod", "dev", "to-shared", "from-shared")) {
      after = after.with(new PeeringChange.DeletePolicy(name));
    }
    Map<String, PeerDelta> deltas = PeerDelta.between(groups, FOUR, after, FOUR);
    assertEquals(new PeerDelta(Map.of("d1", PeeringMode.DIRECT), Set.of()), deltas.get("p1"));
    assertEquals(new PeerDelta(Map.of("p1", PeeringMode.DIRECT, "p2", PeeringMode.DIRECT), Set.of()), deltas.get("d1"));
    assertEquals(Set.of("p1", "p2", "d1"), deltas.keySet());
  }

  @Test
  void changingAPolicysModeIsAnUpsertWithTheNewMode() {
    Peering after = groups.with(new PeeringChange.ApplyPolicy(
        policy("prod", labels(Map.of("env", "prod")), labels(Map.of("env", "prod")), PeeringMode.RELAY_ONLY)));
    assertEquals(Map.of("p1", new PeerDelta(Map.of("p2", PeeringMode.RELAY_ONLY), Set.of()),
        "p2", new PeerDelta(Map.of("p1", PeeringMode.RELAY_ONLY), Set.of())),
        PeerDelta.between(groups, FOUR, after, FOUR));
  }

  @Test
  void aJoiningClusterGainsItsPeersAndOnlyTheyGainIt() {
    Peering after = groups.with(new PeeringChange.SetLabels("p3", Map.of("env", "prod")));
    List<String> five = List.of("p1", "p2", "d1", "shared", "p3");
    assertEquals(Map.of(
        "p1", new PeerDelta(Map.of("p3", PeeringMode.DIRECT), Set.of()),
        "p2", new PeerDelta(Map.of("p3", PeeringMode.DIRECT), Set.of()),
        "shared", new PeerDelta(Map.of("p3", PeeringMode.DIRECT), Set.of()),
        "p3", new PeerDelta(Map.of("p1", PeeringMode.DIRECT, "p2", PeeringMode.DIRECT, "shared", PeeringMode.DIRECT),
            Set.of())), PeerDelta.between(groups, FOUR, after, five));
    assertEquals(Map.of(
        "p1", new PeerDelta(Map.of(), Set.of("p3")),
        "p2", new PeerDelta(Map.of(), Set.of("p3")),
        "shared", new PeerDelta(Map.of(), Set.of("p3")),
        "p3", new PeerDelta(Map.of(), Set.of("p1", "p2", "shared"))), PeerDelta.between(after, five, after, FOUR));
  }
}
