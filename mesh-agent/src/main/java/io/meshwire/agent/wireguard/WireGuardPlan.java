package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.util.List;
import java.util.Objects;

/**
 * {@code WireGuardPlan} is the desired peers of one WireGuard interface and the routes through it.
 * Immutable.
 *
 * @param ifName the interface
 * @param peers every peer the interface should have; any other peer is removed
 * @param routes every route the interface should carry; any other (non-kernel) route is removed
 */
public record WireGuardPlan(String ifName, List<WgPeer> peers, List<Cidr> routes) {

  public WireGuardPlan {
    WgToolsWireGuard.checkIfName(ifName);
    peers = List.copyOf(peers);
    routes = List.copyOf(routes);
  }

  /** A plan whose routes are the peers' allowed IPs: the usual case. */
  public static WireGuardPlan routingAllowedIps(String ifName, List<WgPeer> peers) {
    Objects.requireNonNull(peers, "peers");
    List<Cidr> routes =
        peers.stream().flatMap(p -> p.allowedIps().stream()).distinct().sorted()
            .toList();
    return new WireGuardPlan(ifName, peers, routes);
  }
}
