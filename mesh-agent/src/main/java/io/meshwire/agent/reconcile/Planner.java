package io.meshwire.agent.reconcile;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import io.meshwire.agent.wireguard.WgPeer;
import io.meshwire.agent.wireguard.WireGuardPlan;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code Planner} computes the desired data plane from the agent's state: one WireGuard peer per
 * cluster (its public key, its first gateway endpoint, AllowedIPs = its pod CIDRs as this cluster
 * sees them, the configured keepalive, 25 s by default) and a route per AllowedIP. Pure: endpoint
 * names are resolved through the injected {@link EndpointResolver}.
 */
final class Planner {

  private Planner() {}

  public static WireGuardPlan plan(String ifName, AgentState state, EndpointResolver resolver) {
    return plan(ifName, state, Set.of(), resolver);
  }

  /**
   * The plan with the peers in {@code excluded} left out of routing: they stay WireGuard peers (so
   * link health is still observed) but get no AllowedIPs and no routes. The IPAM excludes peers it
   * found no room for.
   */
  public static WireGuardPlan plan(String ifName, AgentState state, Set<String> excluded,
      EndpointResolver resolver) {
    return plan(ifName, state, excluded, WgPeer.DEFAULT_KEEPALIVE, resolver);
  }

  /** Like {@link #plan(String, AgentState, Set, EndpointResolver)}, every peer with {@code keepalive}. */
  public static WireGuardPlan plan(String ifName, AgentState state, Set<String> excluded, Duration keepalive,
      EndpointResolver resolver) {
    return plan(ifName, state, excluded, keepalive, Map.of(), resolver);
  }

  /**
   * Like {@link #plan(String, AgentState, Set, Duration, EndpointResolver)}, with the WireGuard endpoint
   * of every peer in {@code endpointOverrides} (cluster ID to address) replaced by that address: a
   * relayed peer's endpoint is the agent's local relay bridge socket, and goes back to the peer's
   * gateway as soon as the override is gone (the link is direct again). Overrides for clusters that
   * are not peers are ignored. A relay-only peer without an override has no endpoint.
   */
  public static WireGuardPlan plan(String ifName, AgentState state, Set<String> excluded, Duration keepalive,
      Map<String, InetSocketAddress> endpointOverrides, EndpointResolver resolver) {
    List<WgPeer> peers = new ArrayList<>();
    for (PeerRecord peer : state.peers().values()) {
      View myView = state.myViews().get(peer.clusterId());
      List<Cidr> allowed = excluded.contains(peer.clusterId()) ? List.of()
          : peer.podCidrs().stream().map(c -> myView == null ? c : myView.seenAs(c)).toList();
      InetSocketAddress override = endpointOverrides.get(peer.clusterId());
      // A relay-only peer gets no direct endpoint: WireGuard sends nothing until the path loop pins the bridge.
      Optional<InetSocketAddress> endpoint = override != null ? Optional.of(override)
          : peer.relayOnly() ? Optional.empty() : endpoint(peer, resolver);
      peers.add(new WgPeer(peer.wireguardPublicKey(), endpoint, allowed, keepalive));
    }
    return WireGuardPlan.routingAllowedIps(ifName, peers);
  }

  private static Optional<InetSocketAddress> endpoint(PeerRecord peer, EndpointResolver resolver) {
    for (HostPort hp : peer.gatewayEndpoints()) {
      try {
        return Optional.of(new InetSocketAddress(resolver.resolve(hp.host()), hp.port()));
      } catch (UnknownHostException e) {
        // try the next endpoint; a peer without any resolvable endpoint waits for it to dial us
      }
    }
    return Optional.empty();
  }
}
