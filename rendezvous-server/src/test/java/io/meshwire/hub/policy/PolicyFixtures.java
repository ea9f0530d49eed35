package io.meshwire.hub.policy;

import io.meshwire.hub.membership.Rejection;
import java.util.List;
import java.util.Map;

/** Small builders for policies in tests. */
final class PolicyFixtures {

  private PolicyFixtures() {}

  static Selector labels(Map<String, String> matchLabels) {
    return new Selector(java.util.Set.of(), matchLabels, List.of());
  }

  static Selector names(String... names) {
    return new Selector(java.util.Set.of(names), Map.of(), List.of());
  }

  static PeeringPolicy policy(String name, Selector clusters, Selector peers, PeeringMode mode) {
    try {
      return PeeringPolicy.of("metadata.name", name, clusters, peers, mode);
    } catch (Rejection e) {
      throw new AssertionError(e);
    }
  }

  /** prod with prod, dev with dev, everyone with the cluster named "shared" (both directions). */
  static PeeringRules envGroupsAndShared() {
    return PeeringRules.EMPTY
        .withLabels("p1", Map.of("env", "prod")).withLabels("p2", Map.of("env", "prod"))
        .withLabels("d1", Map.of("env", "dev")).withLabels("shared", Map.of("env", "shared"))
        .withPolicy(policy("prod", labels(Map.of("env", "prod")), labels(Map.of("env", "prod")), PeeringMode.DIRECT))
        .withPolicy(policy("dev", labels(Map.of("env", "dev")), labels(Map.of("env", "dev")), PeeringMode.DIRECT))
        .withPolicy(policy("to-shared", Selector.all(), names("shared"), PeeringMode.DIRECT))
        .withPolicy(policy("from-shared", names("shared"), Selector.all(), PeeringMode.DIRECT));
  }
}
