package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import io.meshwire.agent.wireguard.Change.AddPeer;
import io.meshwire.agent.wireguard.Change.AddRoute;
import io.meshwire.agent.wireguard.Change.PeerField;
import io.meshwire.agent.wireguard.Change.RemovePeer;
import io.meshwire.agent.wireguard.Change.RemoveRoute;
import io.meshwire.agent.wireguard.Change.UpdatePeer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code DataPlaneDiff} computes the {@link Change}s that turn the actual WireGuard interface and
 * routes into the desired ones, and nothing more: applying its output and diffing again yields an
 * empty list. Pure, stateless and thread-safe.
 *
 * <p>Peers are matched by public key. A desired peer WireGuard lacks is an {@link AddPeer}; a peer
 * WireGuard has but the plan does not is a {@link RemovePeer}; a peer whose allowed IPs (compared
 * as a set), keepalive or endpoint differ is an {@link UpdatePeer} naming the fields.
 * Routes are compared as sets.
 *
 * <p>Endpoints and roaming: {@code wg show} reports the endpoint WireGuard uses now, which after
 * roaming (the peer's NAT mapping changed, or it answered from another address) is not the one we
 * configured, and it does not say which it is. So the endpoint is compared against what the caller
 * last configured, when the caller knows ({@code configuredEndpoints}): a roamed endpoint is left
 * alone until the desired endpoint itself changes. Without that knowledge (first pass after start)
 * it is compared against the actual endpoint, which re-sets a roamed endpoint once. A desired peer
 * without endpoint never causes an endpoint change: it dials us.
 *
 * <p>Order of the result: route removals, peer removals, peer updates, peer additions, route
 * additions (so traffic is never routed to a peer that is not configured yet), each sorted.
 */
final class DataPlaneDiff {
  private DataPlaneDiff() {}

  /** {@link #diff(List, WgInterfaceState, List, List, Map)} without knowledge of past endpoints. */
  public static List<Change> diff(
      List<WgPeer> desiredPeers,
      WgInterfaceState actual,
      List<Cidr> desiredRoutes,
      List<Cidr> actualRoutes) {
    return diff(desiredPeers, actual, desiredRoutes, actualRoutes, Map.of());
  }

  /**
   * The changes from {@code actual}/{@code actualRoutes} to {@code desiredPeers}/{@code
   * desiredRoutes}.
   *
   * @param configuredEndpoints public key to the endpoint the caller last configured for it
   * @throws IllegalArgumentException if two desired peers share a public key or claim the same
   *     allowed-IP network (WireGuard would silently give it to the last one)
   */
  public static List<Change> diff(
      List<WgPeer> desiredPeers,
      WgInterfaceState actual,
      List<Cidr> desiredRoutes,
      List<Cidr> actualRoutes,
      Map<String, InetSocketAddress> configuredEndpoints) {
    Map<String, WgPeer> desired = byKey(desiredPeers);
    Map<String, WgPeerState> present = new HashMap<>();
    actual.peers().forEach(p -> present.put(p.publicKey(), p));

    List<Change> removePeers = new ArrayList<>();
    List<Change> updatePeers = new ArrayList<>();
    List<Change> addPeers = new ArrayList<>();
    for (String key : new TreeSet<>(present.keySet())) {
      if (!desired.containsKey(key)) {
        removePeers.add(new RemovePeer(key));
      }
    }
    desired.forEach((key, peer) -> {
      WgPeerState state = present.get(key);
      if (state == null) {
        addPeers.add(new AddPeer(peer));
        return;
      }
      Set<PeerField> fields = EnumSet.noneOf(PeerField.class);
      if (!asSet(peer.allowedIps()).equals(asSet(state.allowedIps()))) {
        fields.add(PeerField.ALLOWED_IPS);
      }
      if (!peer.persistentKeepalive().equals(state.persistentKeepalive())) {
        fields.add(PeerField.KEEPALIVE);
      }
      if (peer.endpoint().isPresent()) {
        Optional<InetSocketAddress> reference =
            configuredEndpoints.containsKey(key)
                ? Optional.of(configuredEndpoints.get(key))
                : state.endpoint();
        if (!peer.endpoint().equals(reference)) {
          fields.add(PeerField.ENDPOINT);
        }
      }
      if (!fields.isEmpty()) {
        updatePeers.add(new UpdatePeer(peer, fields));
      }
    });

    Set<Cidr> wantRoutes = asSet(desiredRoutes);
    Set<Cidr> haveRoutes = asSet(actualRoutes);
    List<Change> changes = new ArrayList<>();
    haveRoutes.stream().filter(r -> !wantRoutes.contains(r)).map(RemoveRoute::new)
        .forEach(changes::add);
    changes.addAll(removePeers);
    changes.addAll(updatePeers);
    changes.addAll(addPeers);
    wantRoutes.stream().filter(r -> !haveRoutes.contains(r)).map(AddRoute::new)
        .forEach(changes::add);
    return List.copyOf(changes);
  }

  private static Map<String, WgPeer> byKey(List<WgPeer> peers) {
    Map<String, WgPeer> byKey = new TreeMap<>();
    Map<Cidr, String> claims = new HashMap<>();
    for (WgPeer peer : peers) {
      if (byKey.putIfAbsent(peer.publicKey(), peer) != null) {
        throw new IllegalArgumentException(
            "desired peers: public key " + peer.publicKey() + " is listed twice");
      }
      for (Cidr cidr : asSet(peer.allowedIps())) {
        String other = claims.putIfAbsent(cidr, peer.publicKey());
        if (other != null) {
          throw new IllegalArgumentException(
              "desired peers: allowed-ip " + cidr + " is claimed by peers " + other + " and "
                  + peer.publicKey());
        }
      }
    }
    return byKey;
  }

  private static Set<Cidr> asSet(Collection<Cidr> cidrs) {
    return new TreeSet<>(cidrs);
  }
}
