package io.meshwire.agent.nat;

import io.meshwire.agent.ipam.ViewChecks;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code NatPlanner} computes the gateway's NETMAP rules from the state. For each peer P (with a
 * view in {@code myViews}, not left out) and each own pod CIDR C that P sees as another block
 * C' ({@code viewsOfMe[P].seenAs(C)}), and each of P's pod CIDRs as this cluster sees it, X
 * (same family as C):
 *
 * <ul>
 *   <li>{@code postrouting: oifname WG ip saddr C ip daddr X snat ip prefix to C'}: on the way to P,
 *       this cluster's pods appear as P sees them, so P's WireGuard accepts them (its AllowedIPs
 *       for us are C') and P's pods see the source as C';
 *   <li>{@code prerouting: iifname WG ip saddr X ip daddr C' dnat ip prefix to C}: what P sends to
 *       us as it sees us is mapped back to our pods.
 * </ul>
 *
 * <p>Identity mappings need no rules; replies are translated by conntrack. The peer's own side
 * (P's addresses as this cluster sees them) is P's job: P SNATs into X, so no rule here rewrites
 * X. A view of me that fails {@link ViewChecks} is ignored (MeshSync refuses to store such views;
 * this is the second line). Pure and thread-safe.
 */
public final class NatPlanner {

  private NatPlanner() {}

  /**
   * @param ifName the WireGuard interface
   * @param ownPodCidrs this cluster's pod CIDRs
   * @param excluded peers left out of the data plane (no view)
   */
  public static List<NatRule> plan(String ifName, List<Cidr> ownPodCidrs, AgentState state, Set<String> excluded) {
    List<NatRule> rules = new ArrayList<>();
    for (PeerRecord peer : state.peers().values()) {
      String id = peer.clusterId();
      View myView = state.myViews().get(id);
      View viewOfMe = state.viewsOfMe().get(id);
      if (excluded.contains(id) || myView == null || viewOfMe == null
          || ViewChecks.problemAsViewOfMe(viewOfMe, ownPodCidrs).isPresent()) {
        continue;
      }
      for (Cidr own : ownPodCidrs) {
        Cidr seenByPeer = viewOfMe.seenAs(own);
        if (seenByPeer.equals(own)) {
          continue;
        }
        for (Cidr theirs : peer.podCidrs()) {
          Cidr x = myView.seenAs(theirs);
          if (x.isIpv4() != own.isIpv4()) {
            continue;
          }
          rules.add(new NatRule.Snat(id, ifName, own, x, seenByPeer));
          rules.add(new NatRule.Dnat(id, ifName, x, seenByPeer, own));
        }
      }
    }
    return rules.stream().sorted(NatRule.ORDER).toList();
  }
}
