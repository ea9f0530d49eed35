package io.meshwire.hub.policy;

import java.util.Map;

/** {@code PeeringChange} is one operator change of the peering rules, the unit the log stores. */
public sealed interface PeeringChange {

  /** Replaces a cluster's labels (empty: the cluster has none). */
  record SetLabels(String clusterId, Map<String, String> labels) implements PeeringChange {
    public SetLabels {
      labels = Map.copyOf(labels);
    }
  }

  /** Adds a policy or replaces the one of the same name. */
  record ApplyPolicy(PeeringPolicy policy) implements PeeringChange {}

  record DeletePolicy(String name) implements PeeringChange {}
}
