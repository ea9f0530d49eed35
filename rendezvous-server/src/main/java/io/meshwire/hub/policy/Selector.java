package io.meshwire.hub.policy;

import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.wire.ProtoMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code Selector} picks clusters by name and by operator-owned labels, with Kubernetes'
 * {@code LabelSelector} semantics: every {@code matchLabels} pair and every {@code matchExpressions}
 * requirement must hold (AND); {@code names}, when given, must also contain the cluster. An empty
 * selector matches every cluster. Immutable; build through {@link #of} to validate.
 */
public record Selector(Set<String> names, Map<String, String> matchLabels, List<Requirement> matchExpressions) {

  /** At most this many names, labels or expressions in one selector. */
  public static final int MAX_TERMS = 64;

  public Selector {
    names = Set.copyOf(new TreeSet<>(names));
    matchLabels = Map.copyOf(matchLabels);
    matchExpressions = List.copyOf(matchExpressions);
  }

  /** The selector that matches every cluster. */
  public static Selector all() {
    return new Selector(Set.of(), Map.of(), List.of());
  }

  /** A validated selector; {@code field} prefixes every error ("spec.peers"). */
  public static Selector of(String field, List<String> names, Map<String, String> matchLabels,
      List<Requirement> matchExpressions) throws Rejection {
    if (names.size() > MAX_TERMS || matchLabels.size() > MAX_TERMS || matchExpressions.size() > MAX_TERMS) {
      throw Rejection.invalid(field, "more than " + MAX_TERMS + " names, labels or expressions");
    }
    for (int i = 0; i < names.size(); i++) {
      ProtoMapper.clusterId(field + ".names[" + i + "]", names.get(i));
    }
    Map<String, String> labels = LabelSyntax.labels(field + ".matchLabels", matchLabels);
    List<Requirement> checked = new ArrayList<>();
    for (int i = 0; i < matchExpressions.size(); i++) {
      checked.add(matchExpressions.get(i).validated(field + ".matchExpressions[" + i + "]"));
    }
    return new Selector(Set.copyOf(names), labels, checked);
  }

  /** True when cluster {@code clusterId} with operator labels {@code labels} is selected. */
  public boolean matches(String clusterId, Map<String, String> labels) {
    if (!names.isEmpty() && !names.contains(clusterId)) {
      return false;
    }
    for (Map.Entry<String, String> e : matchLabels.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    for (Requirement r : matchExpressions) {
      if (!r.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  /** The operators of {@code matchExpressions}, spelled as in Kubernetes. */
  public enum Operator implements Spelled {
    IN("In"), NOT_IN("NotIn"), EXISTS("Exists"), DOES_NOT_EXIST("DoesNotExist");

    private final String spelling;

    Operator(String spelling) {
      this.spelling = spelling;
    }

    @Override
    public String spelling() {
      return spelling;
    }

    /** Parses Kubernetes' spelling; the error names {@code field} and the accepted values. */
    public static Operator parse(String field, String text) throws Rejection {
      return Spelled.parse(Operator.class, field, text);
    }
  }

  /** One {@code matchExpressions} entry: {@code key operator values}. */
  public record Requirement(String key, Operator operator, List<String> values) {

    public Requirement {
      values = List.copyOf(values);
    }

    Requirement validated(String field) throws Rejection {
      LabelSyntax.key(field + ".key", key);
      boolean needsValues = operator == Operator.IN || operator == Operator.NOT_IN;
      if (needsValues && values.isEmpty()) {
        throw Rejection.invalid(field + ".values", "operator " + operator.spelling() + " needs at least one value");
      }
      if (!needsValues && !values.isEmpty()) {
        throw Rejection.invalid(field + ".values", "operator " + operator.spelling() + " takes no values");
      }
      if (values.size() > MAX_TERMS) {
        throw Rejection.invalid(field + ".values", values.size() + " values, at most " + MAX_TERMS);
      }
      for (int i = 0; i < values.size(); i++) {
        LabelSyntax.value(field + ".values[" + i + "]", values.get(i));
      }
      return this;
    }

    boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (operator) {
        case IN -> v != null && values.contains(v);
        case NOT_IN -> v == null || !values.contains(v);
        case EXISTS -> v != null;
        case DOES_NOT_EXIST -> v == null;
      };
    }
  }
}
