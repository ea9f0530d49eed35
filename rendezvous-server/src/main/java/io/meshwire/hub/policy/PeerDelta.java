package io.meshwire.hub.policy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code PeerDelta} is what one agent must be told after a change: the peers it gains (or whose
 * mode changed), with their mode, and the peers it loses. Immutable.
 */
public record PeerDelta(Map<String, PeeringMode> gained, Set<String> lost) {

  public PeerDelta {
    gained = java.util.Collections.unmodifiableMap(new TreeMap<>(gained));
    lost = java.util.Collections.unmodifiableSet(new TreeSet<>(lost));
  }

  public boolean isEmpty() {
    return gained.isEmpty() && lost.isEmpty();
  }

  /**
   * The deltas of the change from {@code before} to {@code after} among {@code members}, comparing
   * only the pairs it can affect when it is one operator change: O(members) when one cluster's
   * labels changed, O(members x clusters the policy selects) when one policy was added, changed or
   * deleted; anything else (the default, several changes at once) compares every pair. Equal to
   * {@code between(before, members, after, members)}.
   */
  public static Map<String, PeerDelta> of(Peering before, Peering after, Collection<String> members) {
    if (before.fallback() == after.fallback()) {
      PeeringRules was = before.rules();
      PeeringRules now = after.rules();
      if (was.policies().equals(now.policies())) {
        Optional<String> relabeled = onlyDifference(was.labels(), now.labels());
        if (relabeled.isPresent()) {
          return ofRelabel(before, after, members, relabeled.get());
        }
      } else if (was.labels().equals(now.labels())) {
        Optional<String> policy = onlyDifference(was.policies(), now.policies());
        if (policy.isPresent()) {
          return ofPolicy(before, after, members, policy.get());
        }
      }
    }
    return between(before, members, after, members);
  }

  /** The one key whose entry differs between {@code a} and {@code b}; empty when none or several do. */
  private static <V> Optional<String> onlyDifference(Map<String, V> a, Map<String, V> b) {
    Set<String> keys = new HashSet<>(a.keySet());
    keys.addAll(b.keySet());
    String found = null;
    for (String k : keys) {
      if (!Objects.equals(a.get(k), b.get(k))) {
        if (found != null) {
          return Optional.empty();
        }
        found = k;
      }
    }
    return Optional.ofNullable(found);
  }

  /**
   * The deltas of adding, changing or deleting the policy {@code name}. Only that policy differs, so a
   * pair's decision can change only when the policy (its old or new version) selects one side in its
   * {@code clusters} and the other in its {@code peers} (allow, relay-only and deny all need both), or
   * when the change makes one side spoken for, or no longer, by an allow policy (the default then
   * applies to it, or stops applying, towards everyone). So this compares the clusters the policy selects
   * with the peers it selects, and the few whose default flipped with every member:
   * O(clusters x peers + flipped x members), not O(members²).
   */
  static Map<String, PeerDelta> ofPolicy(Peering before, Peering after, Collection<String> members, String name) {
    PeeringPolicy was = before.rules().policies().get(name);
    PeeringPolicy now = after.rules().policies().get(name);
    List<String> sources = new ArrayList<>();
    List<String> targets = new ArrayList<>();
    List<String> flipped = new ArrayList<>();
    for (String c : members) {
      Map<String, String> labels = after.rules().labelsOf(c);
      if (selects(was, c, labels, true) || selects(now, c, labels, true)) {
        sources.add(c);
        if (after.fallback() == PeeringDefault.ALLOW && before.spokenFor(c) != after.spokenFor(c)) {
          flipped.add(c);
        }
      }
      if (selects(was, c, labels, false) || selects(now, c, labels, false)) {
        targets.add(c);
      }
    }
    Changes changes = new Changes();
    for (String a : sources) {
      for (String b : targets) {
        changes.compare(before, after, a, b);
      }
    }
    for (String a : flipped) {
      for (String b : members) {
        changes.compare(before, after, a, b);
      }
    }
    return changes.deltas();
  }

  private static boolean selects(PeeringPolicy policy, String clusterId, Map<String, String> labels,
      boolean clustersSide) {
    return policy != null && (clustersSide ? policy.clusters() : policy.peers()).matches(clusterId, labels);
  }

  /** Gains and losses of both sides of each pair whose decision changed (decisions are symmetric). */
  private static final class Changes {
    private final Map<String, Map<String, PeeringMode>> gained = new TreeMap<>();
    private final Map<String, Set<String>> lost = new TreeMap<>();

    void compare(Peering before, Peering after, String a, String b) {
      if (a.equals(b)) {
        return;
      }
      PeeringMode was = before.decide(a, b);
      PeeringMode now = after.decide(a, b);
      if (was == now) {
        return;
      }
      if (now == PeeringMode.DENY) {
        lost.computeIfAbsent(a, k -> new TreeSet<>()).add(b);
        lost.computeIfAbsent(b, k -> new TreeSet<>()).add(a);
      } else {
        gained.computeIfAbsent(a, k -> new TreeMap<>()).put(b, now);
        gained.computeIfAbsent(b, k -> new TreeMap<>()).put(a, now);
      }
    }

    Map<String, PeerDelta> deltas() {
      Map<String, PeerDelta> out = new TreeMap<>();
      Set<String> agents = new TreeSet<>(gained.keySet());
      agents.addAll(lost.keySet());
      for (String agent : agents) {
        out.put(agent, new PeerDelta(gained.getOrDefault(agent, Map.of()), lost.getOrDefault(agent, Set.of())));
      }
      return out;
    }
  }

  /**
   * The deltas of one change of {@code clusterId}'s labels among {@code members}: only pairs with
   * that cluster can change, so this costs O(members), not O(members²) as {@link #between} does.
   * Equal to {@code between(before, members, after, members)} when the policies are the same.
   */
  public static Map<String, PeerDelta> ofRelabel(Peering before, Peering after, Collection<String> members,
      String clusterId) {
    Changes changes = new Changes();
    if (members.contains(clusterId)) {
      for (String other : members) {
        changes.compare(before, after, clusterId, other);
      }
    }
    return changes.deltas();
  }

  /**
   * The delta of every agent whose peers differ between {@code before} over {@code membersBefore}
   * and {@code after} over {@code membersAfter} (a label or policy change, a cluster joining or
   * leaving, or several at once). Agents whose peers did not change are absent. An agent present
   * only after gains all its peers; one present only before loses all of its.
   */
  public static Map<String, PeerDelta> between(Peering before, Collection<String> membersBefore, Peering after,
      Collection<String> membersAfter) {
    Set<String> agents = new TreeSet<>(membersBefore);
    agents.addAll(membersAfter);
    Set<String> inBefore = new HashSet<>(membersBefore);
    Set<String> inAfter = new HashSet<>(membersAfter);
    Map<String, PeerDelta> out = new LinkedHashMap<>();
    for (String a : agents) {
      Map<String, PeeringMode> was = inBefore.contains(a) ? before.peersOf(a, membersBefore) : Map.of();
      Map<String, PeeringMode> now = inAfter.contains(a) ? after.peersOf(a, membersAfter) : Map.of();
      Map<String, PeeringMode> gained = new TreeMap<>();
      now.forEach((peer, mode) -> {
        if (mode != was.get(peer)) {
          gained.put(peer, mode);
        }
      });
      Set<String> lost = new TreeSet<>(was.keySet());
      lost.removeAll(now.keySet());
      PeerDelta d = new PeerDelta(gained, lost);
      if (!d.isEmpty()) {
        out.put(a, d);
      }
    }
    return out;
  }
}
