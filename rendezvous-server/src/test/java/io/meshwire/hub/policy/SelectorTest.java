package io.meshwire.hub.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.Selector.Operator;
import io.meshwire.hub.policy.Selector.Requirement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SelectorTest {

  private static final Map<String, String> PROD_A = Map.of("env", "prod", "team", "a");

  private static Selector expr(String key, Operator op, String... values) throws Rejection {
    return Selector.of("spec.peers", List.of(), Map.of(), List.of(new Requirement(key, op, List.of(values))));
  }

  @Test
  void emptySelectorMatchesEveryCluster() {
    assertTrue(Selector.all().matches("x", Map.of()));
    assertTrue(Selector.all().matches("y", PROD_A));
  }

  @Test
  void matchLabelsNeedsEveryPair() throws Rejection {
    Selector s = Selector.of("s", List.of(), Map.of("env", "prod", "team", "a"), List.of());
    assertTrue(s.matches("c", PROD_A));
    assertFalse(s.matches("c", Map.of("env", "prod")));
    assertFalse(s.matches("c", Map.of("env", "prod", "team", "b")));
  }

  @Test
  void expressionsFollowKubernetesOperators() throws Rejection {
    assertTrue(expr("env", Operator.IN, "prod", "stage").matches("c", PROD_A));
    assertFalse(expr("env", Operator.IN, "dev").matches("c", PROD_A));
    assertFalse(expr("env", Operator.IN, "prod").matches("c", Map.of()));
    assertTrue(expr("env", Operator.NOT_IN, "dev").matches("c", PROD_A));
    assertTrue(expr("env", Operator.NOT_IN, "dev").matches("c", Map.of()), "NotIn matches a missing key");
    assertFalse(expr("env", Operator.NOT_IN, "prod").matches("c", PROD_A));
    assertTrue(expr("team", Operator.EXISTS).matches("c", PROD_A));
    assertFalse(expr("zone", Operator.EXISTS).matches("c", PROD_A));
    assertTrue(expr("zone", Operator.DOES_NOT_EXIST).matches("c", PROD_A));
    assertFalse(expr("team", Operator.DOES_NOT_EXIST).matches("c", PROD_A));
  }

  @Test
  void namesAndLabelsMustBothHold() throws Rejection {
    Selector s = Selector.of("s", List.of("east"), Map.of("env", "prod"), List.of());
    assertTrue(s.matches("east", PROD_A));
    assertFalse(s.matches("west", PROD_A));
    assertFalse(s.matches("east", Map.of("env", "dev")));
  }

  @Test
  void refusesMalformedSelectorsNamingTheField() {
    Rejection noValues = assertThrows(Rejection.class, () -> expr("env", Operator.IN));
    assertEquals("spec.peers.matchExpressions[0].values: operator In needs at least one value", noValues.getMessage());
    Rejection extra = assertThrows(Rejection.class, () -> expr("env", Operator.EXISTS, "x"));
    assertTrue(extra.getMessage().startsWith("spec.peers.matchExpressions[0].values: "), extra.getMessage());
    Rejection badKey = assertThrows(Rejection.class, () -> expr("-env", Operator.EXISTS));
    assertTrue(badKey.getMessage().startsWith("spec.peers.matchExpressions[0].key: "), badKey.getMessage());
    Rejection badOp = assertThrows(Rejection.class, () -> Operator.parse("spec.peers.matchExpressions[1].operator", "Into"));
    assertEquals("spec.peers.matchExpressions[1].operator: \"Into\" is not one of In, NotIn, Exists, DoesNotExist",
        badOp.getMessage());
    Rejection badName = assertThrows(Rejection.class,
        () -> Selector.of("spec.clusters", List.of("East!"), Map.of(), List.of()));
    assertTrue(badName.getMessage().startsWith("spec.clusters.names[0]"), badName.getMessage());
    Rejection badMode = assertThrows(Rejection.class, () -> PeeringMode.parse("spec.mode", "tunnel"));
    assertEquals("spec.mode: \"tunnel\" is not one of direct, relay-only, deny", badMode.getMessage());
  }
}
