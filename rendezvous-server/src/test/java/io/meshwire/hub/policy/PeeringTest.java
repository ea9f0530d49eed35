package io.meshwire.hub.policy;

import static io.meshwire.hub.policy.PolicyFixtures.envGroupsAndShared;
import static io.meshwire.hub.policy.PolicyFixtures.labels;
import static io.meshwire.hub.policy.PolicyFixtures.names;
import static io.meshwire.hub.policy.PolicyFixtures.policy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PeeringTest {

  private static final List<String> FOUR = List.of("p1", "p2", "d1", "shared");

  @Test
  void noPolicyIsTheFullMeshUnderDefaultAllowAndNothingUnderDefaultDeny() {
    Peering allow = new Peering(PeeringRules.EMPTY, PeeringDefault.ALLOW);
    Peering deny = new Peering(PeeringRules.EMPTY, PeeringDefault.DENY);
    assertEquals(6, allow.connectedPairs(FOUR));
    assertEquals(PeeringMode.DIRECT, allow.decide("p1", "d1"));
    assertEquals(0, deny.connectedPairs(FOUR));
  }

  @Test
  void envGroupsConnectInsideAndEveryoneReachesTheSharedCluster() {
    Peering peering = new Peering(envGroupsAndShared(), PeeringDefault.ALLOW);
    assertEquals(Map.of("p2", PeeringMode.DIRECT, "shared", PeeringMode.DIRECT), peering.peersOf("p1", FOUR));
    assertEquals(Set.of("shared"), peering.peersOf("d1", FOUR).keySet());
    assertEquals(Set.of("p1", "p2", "d1"), peering.peersOf("shared", FOUR).keySet());
    assertEquals(PeeringMode.DENY, peering.decide("p1", "d1"));
  }

  @Test
  void oneWayAllowIsNotEnoughBothSidesMustConsent() {
    PeeringRules rules = PeeringRules.EMPTY
        .withLabels("a", Map.of("team", "a")).withLabels("b", Map.of("team", "b"))
        .withPolicy(policy("a-to-b", names("a"), names("b"), PeeringMode.DIRECT))
        .withPolicy(policy("b-isolated", names("b"), names("nobody"), PeeringMode.DIRECT));
    Peering peering = new Peering(rules, PeeringDefault.ALLOW);
    assertEquals(PeeringMode.DENY, peering.decide("a", "b"));
    Peering consented = peering.with(new PeeringChange.ApplyPolicy(policy("b-to-a", names("b"), names("a"),
        PeeringMode.DIRECT)));
    assertEquals(PeeringMode.DIRECT, consented.decide("a", "b"));
    assertEquals(PeeringMode.DIRECT, consented.decide("b", "a"));
  }

  @Test
  void denyWinsOverAnyAllowInEitherDirection() {
    Peering peering = new Peering(envGroupsAndShared(), PeeringDefault.ALLOW)
        .with(new PeeringChange.ApplyPolicy(policy("no-dev-shared", names("shared"), labels(Map.of("env", "dev")),
            PeeringMode.DENY)));
    assertEquals(PeeringMode.DENY, peering.decide("d1", "shared"));
    assertEquals(PeeringMode.DENY, peering.decide("shared", "d1"));
    assertEquals(PeeringMode.DIRECT, peering.decide("p1", "shared"));
  }

  @Test
  void relayOnlyInEitherDirectionMakesTheLinkRelayOnly() {
    Peering peering = new Peering(envGroupsAndShared(), PeeringDefault.ALLOW)
        .with(new PeeringChange.ApplyPolicy(policy("from-shared", names("shared"), Selector.all(),
            PeeringMode.RELAY_ONLY)));
    assertEquals(PeeringMode.RELAY_ONLY, peering.decide("p1", "shared"));
    assertEquals(PeeringMode.RELAY_ONLY, peering.decide("shared", "p1"));
    assertEquals(PeeringMode.DIRECT, peering.decide("p1", "p2"));
  }

  @Test
  void aClusterNoAllowPolicySpeaksForFollowsTheDefault() {
    PeeringRules rules = PeeringRules.EMPTY.withLabels("p1", Map.of("env", "prod"))
        .withPolicy(policy("deny-x", names("x"), Selector.all(), PeeringMode.DENY));
    Peering peering = new Peering(rules, PeeringDefault.ALLOW);
    assertEquals(PeeringMode.DIRECT, peering.decide("p1", "d1"));
    assertEquals(PeeringMode.DENY, peering.decide("x", "d1"));
  }

  @Test
  void explainNamesThePoliciesAndLabelsOfBothDirections() {
    Peering peering = new Peering(envGroupsAndShared(), PeeringDefault.ALLOW);
    Peering.Explanation no = peering.explain("p1", "d1");
    assertEquals(PeeringMode.DENY, no.mode());
    assertEquals(Map.of("env", "prod"), no.labelsA());
    assertTrue(no.reasons().contains("p1 -> d1: not allowed: p1 is selected by prod, to-shared, none of which selects d1"),
        no.reasons().toString());
    Peering.Explanation yes = peering.explain("p1", "shared");
    assertTrue(yes.reasons().contains("p1 -> shared: allowed by to-shared (direct)"), yes.reasons().toString());
    assertTrue(yes.reasons().contains("shared -> p1: allowed by from-shared (direct)"), yes.reasons().toString());
  }
}
