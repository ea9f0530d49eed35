package io.meshwire.agent.wireguard;

import io.meshwire.agent.exec.CommandFailedException;
import io.meshwire.netaddr.Cidr;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An in-memory {@link WireGuard} for one interface, for unit tests (the real driver needs root). It
 * keeps peers like WireGuard: an empty endpoint in setPeer leaves the current one alone. {@link
 * #show} fails like {@code wg} does while the interface does not exist.
 */
public final class MemoryWireGuard implements WireGuard {
  public final Map<String, WgPeerState> peers = new LinkedHashMap<>();
  public final List<WgPeer> sets = new ArrayList<>();
  public final List<String> keysSet = new ArrayList<>();
  private boolean exists;
  private String privateKey = "";

  /** An interface that already exists (with no key until one is set). */
  public static MemoryWireGuard existing() {
    MemoryWireGuard wg = new MemoryWireGuard();
    wg.exists = true;
    return wg;
  }

  /** No interface until {@link #ensureInterface}. */
  public static MemoryWireGuard absent() {
    return new MemoryWireGuard();
  }

  @Override
  public synchronized void ensureInterface(String ifName, int port, String key, Optional<Cidr> address) {
    exists = true;
    if (!key.equals(privateKey)) {
      keysSet.add(key);
      privateKey = key;
    }
  }

  @Override
  public synchronized WgInterfaceState show(String ifName) {
    if (!exists) {
      throw CommandFailedException.exited(List.of("wg", "show", ifName, "dump"),
          new io.meshwire.agent.exec.CommandRunner.Result(1, "", "Unable to access interface: No such device"));
    }
    return new WgInterfaceState(privateKey, "", 51820, List.copyOf(peers.values()));
  }

  @Override
  public synchronized void setPeer(String ifName, WgPeer peer) {
    sets.add(peer);
    Optional<InetSocketAddress> endpoint =
        peer.endpoint().or(() -> Optional.ofNullable(peers.get(peer.publicKey())).flatMap(WgPeerState::endpoint));
    peers.put(peer.publicKey(), new WgPeerState(peer.publicKey(), endpoint, peer.allowedIps(),
        Optional.empty(), 0, 0, peer.persistentKeepalive()));
  }

  @Override
  public synchronized void removePeer(String ifName, String publicKey) {
    peers.remove(publicKey);
  }

  @Override
  public synchronized void deleteInterface(String ifName) {
    exists = false;
    peers.clear();
  }

  /** What WireGuard does when the peer's packets arrive from a new address. */
  public synchronized void roam(String publicKey, InetSocketAddress to) {
    WgPeerState p = peers.get(publicKey);
    peers.put(publicKey, new WgPeerState(p.publicKey(), Optional.of(to), p.allowedIps(),
        p.latestHandshake(), p.rxBytes(), p.txBytes(), p.persistentKeepalive()));
  }
}
