package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code WgPeerState} is one peer as {@code wg show IF dump} reports it. Immutable.
 *
 * @param publicKey base64
 * @param endpoint the endpoint WireGuard uses now: configured, or learned from the peer's latest
 *     authenticated packet (roaming); empty if neither
 * @param allowedIps in the order {@code wg} prints them
 * @param latestHandshake empty when there never was one
 * @param rxBytes bytes received from the peer
 * @param txBytes bytes sent to the peer
 * @param persistentKeepalive zero when off
 */
public record WgPeerState(
    String publicKey,
    Optional<InetSocketAddress> endpoint,
    List<Cidr> allowedIps,
    Optional<Instant> latestHandshake,
    long rxBytes,
    long txBytes,
    Duration persistentKeepalive) {

  public WgPeerState {
    Objects.requireNonNull(publicKey, "publicKey");
    Objects.requireNonNull(endpoint, "endpoint");
    allowedIps = List.copyOf(allowedIps);
    Objects.requireNonNull(latestHandshake, "latestHandshake");
    Objects.requireNonNull(persistentKeepalive, "persistentKeepalive");
  }
}
