package io.meshwire.agent.wireguard;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code WgInterfaceState} is a WireGuard interface as {@code wg show IF dump} reports it.
 * Immutable. {@link #toString()} never prints the private key.
 *
 * @param privateKey base64, empty when no key is set
 * @param publicKey base64, empty when no key is set
 * @param listenPort the UDP port, 0 when not listening
 * @param peers in the order {@code wg} prints them
 */
public record WgInterfaceState(
    String privateKey, String publicKey, int listenPort, List<WgPeerState> peers) {

  public WgInterfaceState {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(publicKey, "publicKey");
    peers = List.copyOf(peers);
  }

  /** The peer with this public key, if configured. */
  public Optional<WgPeerState> peer(String publicKey) {
    return peers.stream().filter(p -> p.publicKey().equals(publicKey)).findFirst();
  }

  @Override
  public String toString() {
    return "WgInterfaceState[privateKey=" + (privateKey.isEmpty() ? "(none)" : "(redacted)")
        + ", publicKey=" + publicKey + ", listenPort=" + listenPort + ", peers=" + peers + "]";
  }
}
