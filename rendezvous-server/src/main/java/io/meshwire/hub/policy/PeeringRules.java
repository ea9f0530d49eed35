package io.meshwire.hub.policy;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code PeeringRules} is the operator's side of peering as the hub's log keeps it: each cluster's
 * labels (set at token creation or with {@code clusters label}, never by the agent) and the
 * peering policies by name. Immutable: every change returns new rules.
 */
public record PeeringRules(Map<String, Map<String, String>> labels, Map<String, PeeringPolicy> policies) {

  /** At most this many policies in one mesh. */
  public static final int MAX_POLICIES = 1000;

  public static final PeeringRules EMPTY = new PeeringRules(Map.of(), Map.of());

  public PeeringRules {
    labels = Collections.unmodifiableMap(new TreeMap<>(labels));
    policies = Collections.unmodifiableMap(new TreeMap<>(policies));
  }

  /** The operator's labels of {@code clusterId}; empty when it has none. */
  public Map<String, String> labelsOf(String clusterId) {
    return labels.getOrDefault(clusterId, Map.of());
  }

  /** These rules with {@code clusterId}'s labels replaced (an empty map drops the entry). */
  public PeeringRules withLabels(String clusterId, Map<String, String> clusterLabels) {
    Map<String, Map<String, String>> next = new TreeMap<>(labels);
    if (clusterLabels.isEmpty()) {
      next.remove(clusterId);
    } else {
      next.put(clusterId, Map.copyOf(clusterLabels));
    }
    return new PeeringRules(next, policies);
  }

  /** These rules with {@code policy} added or replacing the one of the same name. */
  public PeeringRules withPolicy(PeeringPolicy policy) {
    Map<String, PeeringPolicy> next = new TreeMap<>(policies);
    next.put(policy.name(), policy);
    return new PeeringRules(labels, next);
  }

  public PeeringRules withoutPolicy(String name) {
    Map<String, PeeringPolicy> next = new TreeMap<>(policies);
    next.remove(name);
    return new PeeringRules(labels, next);
  }

  /** These rules after {@code change}. */
  public PeeringRules with(PeeringChange change) {
    return switch (change) {
      case PeeringChange.SetLabels s -> withLabels(s.clusterId(), s.labels());
      case PeeringChange.ApplyPolicy a -> withPolicy(a.policy());
      case PeeringChange.DeletePolicy d -> withoutPolicy(d.name());
    };
  }
}
