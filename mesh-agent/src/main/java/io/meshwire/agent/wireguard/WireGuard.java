package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.util.Optional;

/**
 * {@code WireGuard} is the driver for WireGuard interfaces: the only code that changes them. The
 * real implementation is {@link WgToolsWireGuard}, which drives the kernel module or wireguard-go
 * through {@code ip} and {@code wg}.
 *
 * <p>Every method is idempotent, blocks while it runs external tools (keep it off event loops), and
 * throws {@link io.meshwire.agent.exec.CommandFailedException} naming the failed command when a
 * tool fails. Private keys never appear in argv, logs or exception messages. Implementations are
 * thread-safe.
 */
public interface WireGuard {

  /**
   * Makes {@code ifName} exist as an up WireGuard interface with this listen port and private key,
   * and with {@code interfaceAddress} when given. Creates it if missing; changes only what differs
   * if present. Peers are left alone.
   *
   * @param ifName 1..15 characters of {@code [A-Za-z0-9_.-]}
   * @param listenPort 1..65535
   * @param privateKey base64, as {@code wg genkey} prints it
   * @param interfaceAddress the gateway's own tunnel address, usually a {@code /32} or {@code /128}
   *     host prefix (a {@link Cidr} carries no host bits, and WireGuard routes are added
   *     explicitly anyway); added with {@code ip address replace} if present, other addresses on
   *     the interface are left alone
   */
  void ensureInterface(
      String ifName, int listenPort, String privateKey, Optional<Cidr> interfaceAddress);

  /** The interface's keys, port and peers as {@code wg show IF dump} reports them. */
  WgInterfaceState show(String ifName);

  /**
   * Adds {@code peer}, or sets its allowed IPs (replacing the list) and keepalive, and its endpoint
   * when the peer has one; an empty endpoint leaves the current one in place. Adds no routes.
   */
  void setPeer(String ifName, WgPeer peer);

  /** Removes the peer with this base64 public key; a peer that is not there is not an error. */
  void removePeer(String ifName, String publicKey);

  /**
   * Deletes the interface, with its peers and the routes through it, and stops the wireguard-go
   * process serving it, if any. An interface that is not there is not an error.
   */
  void deleteInterface(String ifName);
}
