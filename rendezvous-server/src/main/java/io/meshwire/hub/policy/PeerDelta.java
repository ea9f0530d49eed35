package io.meshwire.hub.policy;

import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
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
   * The deltas of one change of {@code clusterId}'s labels among {@code members}: only pairs with
   * that cluster can change, so this costs O(members), not O(members²) as {@link #between} does.
   * Equal to {@code between(before, members, after, members)} when the policies are the same.
   */
  public static Map<String, PeerDelta> ofRelabel(Peering before, Peering after, Collection<String> members,
      String clusterId) {
    Map<String, PeeringMode> gained = new TreeMap<>();
    Set<String> lost = new TreeSet<>();
    Map<String, PeerDelta> out = new TreeMap<>();
    boolean member = members.contains(clusterId);
    for (String other : members) {
      if (other.equals(clusterId)) {
        continue;
      }
      PeeringMode was = before.decide(clusterId, other);
      PeeringMode now = after.decide(clusterId, other);
      if (was == now) {
        continue;
      }
      if (now == PeeringMode.DENY) {
        lost.add(other);
        if (member) {
          out.put(other, new PeerDelta(Map.of(), Set.of(clusterId)));
        }
      } else {
        gained.put(other, now);
        if (member) {
          out.put(other, new PeerDelta(Map.of(clusterId, now), Set.of()));
        }
      }
    }
    if (member && (!gained.isEmpty() || !lost.isEmpty())) {
      out.put(clusterId, new PeerDelta(gained, lost));
    }
    return out;
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
