package io.meshwire.hub.policy;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code Peering} decides which clusters may connect, from the operator's {@link PeeringRules} and
 * the hub's {@link PeeringDefault}. It is a pure function of those two: the same rules always give
 * the same pairs, whatever the membership, so the log can decide who receives a record without
 * knowing who is watching.
 *
 * <p>The rule, for two clusters A and B:
 * <ul>
 *   <li>A is <em>granted</em> towards B when an allow policy ({@code direct} or {@code relay-only})
 *       selects A in its {@code clusters} and B in its {@code peers}; or when the default is
 *       {@code allow} and no allow policy selects A in its {@code clusters} at all (as with
 *       Kubernetes NetworkPolicies, a cluster that a policy speaks for is isolated to what
 *       policies allow).</li>
 *   <li>A and B connect when A is granted towards B and B towards A (mutual consent), and no
 *       {@code deny} policy selects A towards B or B towards A (deny wins).</li>
 *   <li>The link is {@code relay-only} when any allow policy selecting the pair, in either
 *       direction, says so; otherwise {@code direct}.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe; each cluster's policy matches are computed once and cached.
 */
public final class Peering {

  private final PeeringRules rules;
  private final PeeringDefault fallback;
  private final List<PeeringPolicy> policies;
  private final BitSet allowMask = new BitSet();
  private final BitSet relayMask = new BitSet();
  private final BitSet denyMask = new BitSet();
  // Shared by every Peering with the same policies (a relabel keeps them): which policies select a
  // cluster depends only on the policies and the cluster's labels, so entries carry the labels they
  // were computed for. The log keeps old Peerings alive (entries' audiences): one cache, not one each.
  private final Map<String, Matches> matches;

  public Peering(PeeringRules rules, PeeringDefault fallback) {
    this(rules, fallback, new ConcurrentHashMap<>());
  }

  private Peering(PeeringRules rules, PeeringDefault fallback, Map<String, Matches> matches) {
    this.rules = rules;
    this.fallback = fallback;
    this.matches = matches;
    this.policies = List.copyOf(rules.policies().values());
    for (int p = 0; p < policies.size(); p++) {
      switch (policies.get(p).mode()) {
        case DIRECT -> allowMask.set(p);
        case RELAY_ONLY -> {
          allowMask.set(p);
          relayMask.set(p);
        }
        case DENY -> denyMask.set(p);
      }
    }
  }

  /** Today's mesh: every cluster with every other, direct. */
  public static Peering fullMesh() {
    return new Peering(PeeringRules.EMPTY, PeeringDefault.ALLOW);
  }

  public PeeringRules rules() {
    return rules;
  }

  public PeeringDefault fallback() {
    return fallback;
  }

  /** These rules changed, under the same default. */
  public Peering with(PeeringChange change) {
    return change instanceof PeeringChange.SetLabels
        ? new Peering(rules.with(change), fallback, matches)
        : new Peering(rules.with(change), fallback);
  }

  /** True when every pair connects directly whatever the labels (no policy, default allow). */
  public boolean isFullMesh() {
    return policies.isEmpty() && fallback == PeeringDefault.ALLOW;
  }

  /**
   * How {@code a} and {@code b} connect: {@code DIRECT}, {@code RELAY_ONLY}, or {@code DENY} when
   * they do not (a cluster never peers with itself).
   */
  public PeeringMode decide(String a, String b) {
    if (a.equals(b)) {
      return PeeringMode.DENY;
    }
    if (isFullMesh()) {
      return PeeringMode.DIRECT;
    }
    return decide(matches(a), matches(b));
  }

  /** The clusters among {@code members} that {@code a} connects with, and how. */
  public Map<String, PeeringMode> peersOf(String a, Collection<String> members) {
    Map<String, PeeringMode> out = new LinkedHashMap<>();
    Matches ma = isFullMesh() ? null : matches(a);
    for (String b : members) {
      if (b.equals(a)) {
        continue;
      }
      PeeringMode m = ma == null ? PeeringMode.DIRECT : decide(ma, matches(b));
      if (m != PeeringMode.DENY) {
        out.put(b, m);
      }
    }
    return out;
  }

  /**
   * True when an allow policy selects {@code clusterId} in its {@code clusters}: the default then no
   * longer applies to it.
   */
  boolean spokenFor(String clusterId) {
    return !isFullMesh() && !matches(clusterId).fromAllow.isEmpty();
  }

  /** True when a policy says {@code relay-only} (so some receivers may need the relay-only form). */
  public boolean hasRelayOnly() {
    return !relayMask.isEmpty();
  }

  /** True when at least two of {@code members} connect. */
  public boolean connectsAny(List<String> members) {
    for (int i = 0; i < members.size(); i++) {
      for (int j = i + 1; j < members.size(); j++) {
        if (decide(members.get(i), members.get(j)) != PeeringMode.DENY) {
          return true;
        }
      }
    }
    return false;
  }

  /** Number of connected unordered pairs among {@code members}. */
  public long connectedPairs(List<String> members) {
    long n = 0;
    for (int i = 0; i < members.size(); i++) {
      for (int j = i + 1; j < members.size(); j++) {
        if (decide(members.get(i), members.get(j)) != PeeringMode.DENY) {
          n++;
        }
      }
    }
    return n;
  }

  /** Why {@code a} and {@code b} connect or not, for {@code meshwire policy explain}. */
  public Explanation explain(String a, String b) {
    List<String> reasons = new ArrayList<>();
    if (a.equals(b)) {
      reasons.add("a cluster does not peer with itself");
      return new Explanation(a, b, PeeringMode.DENY, rules.labelsOf(a), rules.labelsOf(b), reasons);
    }
    Matches ma = matches(a);
    Matches mb = matches(b);
    direction(a, ma, b, mb, reasons);
    direction(b, mb, a, ma, reasons);
    return new Explanation(a, b, decide(a, b), rules.labelsOf(a), rules.labelsOf(b), reasons);
  }

  /** The answer of {@link #explain}: the decision, both clusters' labels, and one line per reason. */
  public record Explanation(String a, String b, PeeringMode mode, Map<String, String> labelsA,
      Map<String, String> labelsB, List<String> reasons) {
    public Explanation {
      labelsA = Map.copyOf(labelsA);
      labelsB = Map.copyOf(labelsB);
      reasons = List.copyOf(reasons);
    }
  }

  private void direction(String from, Matches mf, String to, Matches mt, List<String> reasons) {
    String dir = from + " -> " + to + ": ";
    List<String> allowing = new ArrayList<>();
    List<String> denying = new ArrayList<>();
    List<String> speakingFor = new ArrayList<>();
    for (int p = 0; p < policies.size(); p++) {
      PeeringPolicy policy = policies.get(p);
      boolean selectsFrom = mf.from.get(p);
      if (selectsFrom && allowMask.get(p)) {
        speakingFor.add(policy.name());
      }
      if (selectsFrom && mt.to.get(p)) {
        (denyMask.get(p) ? denying : allowing).add(policy.name() + " (" + policy.mode().spelling() + ")");
      }
    }
    if (!denying.isEmpty()) {
      reasons.add(dir + "denied by " + String.join(", ", denying));
    }
    if (!allowing.isEmpty()) {
      reasons.add(dir + "allowed by " + String.join(", ", allowing));
    } else if (speakingFor.isEmpty()) {
      reasons.add(dir + (fallback == PeeringDefault.ALLOW
          ? "allowed by the default (no allow policy selects " + from + ")"
          : "not allowed: no policy selects the pair and the default is deny"));
    } else {
      reasons.add(dir + "not allowed: " + from + " is selected by " + String.join(", ", speakingFor)
          + ", none of which selects " + to);
    }
  }

  private PeeringMode decide(Matches a, Matches b) {
    if (a.fromDeny.intersects(b.to) || b.fromDeny.intersects(a.to)) {
      return PeeringMode.DENY;
    }
    if (!granted(a, b) || !granted(b, a)) {
      return PeeringMode.DENY;
    }
    return a.fromRelay.intersects(b.to) || b.fromRelay.intersects(a.to) ? PeeringMode.RELAY_ONLY : PeeringMode.DIRECT;
  }

  private boolean granted(Matches from, Matches to) {
    return from.fromAllow.intersects(to.to) || (fallback == PeeringDefault.ALLOW && from.fromAllow.isEmpty());
  }

  private Matches matches(String clusterId) {
    Map<String, String> labels = rules.labelsOf(clusterId);
    Matches cached = matches.get(clusterId);
    if (cached != null && cached.labels.equals(labels)) {
      return cached;
    }
    Matches computed = compute(clusterId, labels);
    matches.put(clusterId, computed);
    return computed;
  }

  private Matches compute(String id, Map<String, String> labels) {
    BitSet from = new BitSet();
    BitSet to = new BitSet();
    for (int p = 0; p < policies.size(); p++) {
      PeeringPolicy policy = policies.get(p);
      from.set(p, policy.clusters().matches(id, labels));
      to.set(p, policy.peers().matches(id, labels));
    }
    return new Matches(labels, from, to, and(from, allowMask), and(from, relayMask), and(from, denyMask));
  }

  private static BitSet and(BitSet a, BitSet b) {
    BitSet out = (BitSet) a.clone();
    out.and(b);
    return out;
  }

  /** Which policies select one cluster on each side; the {@code from*} sets split by mode. */
  private record Matches(Map<String, String> labels, BitSet from, BitSet to, BitSet fromAllow, BitSet fromRelay,
      BitSet fromDeny) {}

  /** For tests and diagnostics: every cluster's peers among {@code members}. */
  public Map<String, Map<String, PeeringMode>> graph(Collection<String> members) {
    Map<String, Map<String, PeeringMode>> out = new HashMap<>();
    members.forEach(a -> out.put(a, peersOf(a, members)));
    return out;
  }
}
