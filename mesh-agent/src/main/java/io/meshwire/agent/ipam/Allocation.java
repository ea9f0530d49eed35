package io.meshwire.agent.ipam;

import io.meshwire.agent.state.View;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code Allocation} is the IPAM's result for the whole mesh: this cluster's view of every peer
 * that has one (by subject; these become {@code AgentState.myViews}) and each peer's decision.
 * Immutable.
 *
 * @param views how this cluster sees each peer, for every peer except exhausted ones
 * @param decisions one per peer
 */
public record Allocation(Map<String, View> views, Map<String, PeerDecision> decisions) {

  public Allocation {
    views = Collections.unmodifiableSortedMap(new TreeMap<>(views));
    decisions = Collections.unmodifiableSortedMap(new TreeMap<>(decisions));
  }

  /** No peers, nothing decided. */
  public static Allocation empty() {
    return new Allocation(Map.of(), Map.of());
  }

  /** Peers left out of the data plane because no pool had room. */
  public Set<String> exhausted() {
    Set<String> out = new TreeSet<>();
    decisions.forEach((peer, d) -> {
      if (d instanceof PeerDecision.Exhausted) {
        out.add(peer);
      }
    });
    return Collections.unmodifiableSet(out);
  }
}
