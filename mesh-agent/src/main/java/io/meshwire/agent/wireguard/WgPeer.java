package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code WgPeer} is the desired configuration of one WireGuard peer. Immutable.
 *
 * @param publicKey the peer's public key in base64 (canonicalised on construction)
 * @param endpoint where to send handshakes; empty when the peer dials us and WireGuard should learn
 *     its address. Give numeric addresses: a name is handed to {@code wg}, which resolves it, but
 *     then never equals the address {@code wg show} reports
 * @param allowedIps the source addresses accepted from and routed to this peer; compared as a set
 *     (order does not matter)
 * @param persistentKeepalive zero for off, else whole seconds in 1..65535
 */
public record WgPeer(
    String publicKey,
    Optional<InetSocketAddress> endpoint,
    List<Cidr> allowedIps,
    Duration persistentKeepalive) {

  /** The keepalive the mesh uses between gateways, so NAT mappings stay open. */
  public static final Duration DEFAULT_KEEPALIVE = Duration.ofSeconds(25);

  public WgPeer {
    publicKey = WgKeys.canonical(publicKey, "peer public key", true);
    Objects.requireNonNull(endpoint, "peer " + publicKey + ": endpoint (use Optional.empty())");
    allowedIps = List.copyOf(Objects.requireNonNull(allowedIps, "peer " + publicKey + ": allowedIps"));
    Objects.requireNonNull(persistentKeepalive, "peer " + publicKey + ": persistentKeepalive");
    if (persistentKeepalive.isNegative()
        || persistentKeepalive.toNanos() % 1_000_000_000L != 0
        || persistentKeepalive.getSeconds() > 65535) {
      throw new IllegalArgumentException(
          "peer " + publicKey + ": persistent keepalive " + persistentKeepalive
              + " must be whole seconds in 0..65535");
    }
  }

  /** A peer with an endpoint and the {@link #DEFAULT_KEEPALIVE}. */
  public static WgPeer of(String publicKey, InetSocketAddress endpoint, List<Cidr> allowedIps) {
    return new WgPeer(publicKey, Optional.of(endpoint), allowedIps, DEFAULT_KEEPALIVE);
  }

  /** This peer without an endpoint: applying it leaves the endpoint WireGuard has untouched. */
  public WgPeer withoutEndpoint() {
    return new WgPeer(publicKey, Optional.empty(), allowedIps, persistentKeepalive);
  }
}
