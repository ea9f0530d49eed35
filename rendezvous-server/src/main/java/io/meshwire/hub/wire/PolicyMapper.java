package io.meshwire.hub.wire;

import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.LabelSyntax;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.hub.policy.PeeringPolicy;
import io.meshwire.hub.policy.PeeringRules;
import io.meshwire.hub.policy.Selector;
import io.meshwire.proto.policy.v1.ClusterLabels;
import io.meshwire.proto.policy.v1.LabelRequirement;
import io.meshwire.proto.policy.v1.PeeringImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code PolicyMapper} converts peering policies, labels and changes between the {@code
 * meshwire.policy.v1} messages and the hub's {@code hub.policy} types. The {@code from*} methods
 * validate and name the field of the first problem; the {@code to*} methods cannot fail.
 * Stateless.
 */
public final class PolicyMapper {

  private PolicyMapper() {}

  /** A validated policy from the message given in {@code field} ("policy"). */
  public static PeeringPolicy fromProto(String field, io.meshwire.proto.policy.v1.PeeringPolicy p) throws Rejection {
    String name = PeeringPolicy.name(field + ".name", p.getName());
    PeeringMode mode = switch (p.getMode()) {
      case PEERING_MODE_DIRECT -> PeeringMode.DIRECT;
      case PEERING_MODE_RELAY_ONLY -> PeeringMode.RELAY_ONLY;
      case PEERING_MODE_DENY -> PeeringMode.DENY;
      default -> throw Rejection.invalid(field + ".mode", "must be direct, relay-only or deny (got "
          + p.getModeValue() + ")");
    };
    return new PeeringPolicy(name, selector(field + ".clusters", p.getClusters()),
        selector(field + ".peers", p.getPeers()), mode);
  }

  public static io.meshwire.proto.policy.v1.PeeringPolicy toProto(PeeringPolicy p) {
    return io.meshwire.proto.policy.v1.PeeringPolicy.newBuilder()
        .setName(p.name())
        .setClusters(toProto(p.clusters()))
        .setPeers(toProto(p.peers()))
        .setMode(toProto(p.mode()))
        .build();
  }

  public static io.meshwire.proto.policy.v1.PeeringMode toProto(PeeringMode mode) {
    return switch (mode) {
      case DIRECT -> io.meshwire.proto.policy.v1.PeeringMode.PEERING_MODE_DIRECT;
      case RELAY_ONLY -> io.meshwire.proto.policy.v1.PeeringMode.PEERING_MODE_RELAY_ONLY;
      case DENY -> io.meshwire.proto.policy.v1.PeeringMode.PEERING_MODE_DENY;
    };
  }

  /** A record as one receiver sees it: DIRECT leaves the mode unset, as before policies existed. */
  public static io.meshwire.proto.rendezvous.v1.ClusterRecord peerRecord(io.meshwire.hub.membership.ClusterRecord record,
      PeeringMode mode) {
    var proto = ProtoMapper.toProto(record);
    return mode == PeeringMode.DIRECT ? proto : proto.toBuilder().setPeeringMode(toProto(mode)).build();
  }

  /** A validated set of labels for {@code clusterId}; errors name {@code idField} or {@code labelsField}. */
  public static PeeringChange.SetLabels setLabels(String idField, String clusterId, String labelsField,
      Map<String, String> labels) throws Rejection {
    return new PeeringChange.SetLabels(ProtoMapper.clusterId(idField, clusterId), LabelSyntax.labels(labelsField, labels));
  }

  /** A stored change; invalid content means the store was written by something else. */
  public static PeeringChange fromStored(io.meshwire.proto.policy.v1.PeeringChange c) {
    try {
      return switch (c.getChangeCase()) {
        case SET_LABELS -> setLabels("set_labels.cluster_id", c.getSetLabels().getClusterId(), "set_labels.labels",
            c.getSetLabels().getLabelsMap());
        case APPLY_POLICY -> new PeeringChange.ApplyPolicy(fromProto("apply_policy", c.getApplyPolicy()));
        case DELETE_POLICY -> new PeeringChange.DeletePolicy(PeeringPolicy.name("delete_policy", c.getDeletePolicy()));
        case CHANGE_NOT_SET -> throw Rejection.invalid("change", "not set");
      };
    } catch (Rejection e) {
      throw new IllegalStateException("stored peering change is invalid: " + e.getMessage());
    }
  }

  public static io.meshwire.proto.policy.v1.PeeringChange toProto(PeeringChange change) {
    var b = io.meshwire.proto.policy.v1.PeeringChange.newBuilder();
    switch (change) {
      case PeeringChange.SetLabels s -> b.setSetLabels(labels(s.clusterId(), s.labels()));
      case PeeringChange.ApplyPolicy a -> b.setApplyPolicy(toProto(a.policy()));
      case PeeringChange.DeletePolicy d -> b.setDeletePolicy(d.name());
    }
    return b.build();
  }

  public static PeeringImage toProto(PeeringRules rules) {
    PeeringImage.Builder b = PeeringImage.newBuilder();
    rules.labels().forEach((id, ls) -> b.addLabels(labels(id, ls)));
    rules.policies().values().forEach(p -> b.addPolicies(toProto(p)));
    return b.build();
  }

  /** Stored rules; invalid content means the store was written by something else. */
  public static PeeringRules fromStored(PeeringImage image) {
    PeeringRules rules = PeeringRules.EMPTY;
    try {
      for (ClusterLabels l : image.getLabelsList()) {
        PeeringChange.SetLabels s = setLabels("labels.cluster_id", l.getClusterId(), "labels.labels", l.getLabelsMap());
        rules = rules.withLabels(s.clusterId(), s.labels());
      }
      for (var p : image.getPoliciesList()) {
        rules = rules.withPolicy(fromProto("policies", p));
      }
    } catch (Rejection e) {
      throw new IllegalStateException("stored peering rules are invalid: " + e.getMessage());
    }
    return rules;
  }

  private static ClusterLabels labels(String clusterId, Map<String, String> labels) {
    return ClusterLabels.newBuilder().setClusterId(clusterId).putAllLabels(new TreeMap<>(labels)).build();
  }

  private static Selector selector(String field, io.meshwire.proto.policy.v1.Selector s) throws Rejection {
    List<Selector.Requirement> expressions = new ArrayList<>();
    for (int i = 0; i < s.getMatchExpressionsCount(); i++) {
      LabelRequirement r = s.getMatchExpressions(i);
      String f = field + ".matchExpressions[" + i + "]";
      expressions.add(new Selector.Requirement(r.getKey(), Selector.Operator.parse(f + ".operator", r.getOperator()),
          r.getValuesList()));
    }
    if (s.getNamesCount() > Selector.MAX_TERMS) {
      throw Rejection.invalid(field + ".names", s.getNamesCount() + " names, at most " + Selector.MAX_TERMS);
    }
    return Selector.of(field, s.getNamesList(), s.getMatchLabelsMap(), expressions);
  }

  private static io.meshwire.proto.policy.v1.Selector toProto(Selector s) {
    var b = io.meshwire.proto.policy.v1.Selector.newBuilder()
        .addAllNames(new java.util.TreeSet<>(s.names()))
        .putAllMatchLabels(new TreeMap<>(s.matchLabels()));
    s.matchExpressions().forEach(r -> b.addMatchExpressions(LabelRequirement.newBuilder()
        .setKey(r.key()).setOperator(r.operator().spelling()).addAllValues(r.values())));
    return b.build();
  }
}
