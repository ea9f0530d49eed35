package io.meshwire.agent.status;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.agent.wireguard.WgInterfaceState;
import io.meshwire.agent.wireguard.WgPeerState;
import io.meshwire.agent.wireguard.WireGuard;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code LinkMonitor} reads the tunnel's counters and turns them into per-peer link status: up
 * while the latest handshake is younger than WireGuard's reject-after time (180 s). Pure apart from
 * the one {@code wg show} it runs per observation.
 */
public final class LinkMonitor {

  /** One peer's link as observed now. */
  public record PeerLink(String clusterId, LinkHealth health, Optional<Instant> latestHandshake,
      Optional<Duration> handshakeAge, Optional<InetSocketAddress> endpoint, long rxBytes, long txBytes) {}

  private final WireGuard wireGuard;
  private final String ifName;
  private final Supplier<AgentState> state;
  private final InstantSource clock;

  public LinkMonitor(WireGuard wireGuard, String ifName, Supplier<AgentState> state, InstantSource clock) {
    this.wireGuard = wireGuard;
    this.ifName = ifName;
    this.state = state;
    this.clock = clock;
  }

  /** Every peer of the state, with what WireGuard reports for its key (DOWN when it has no entry). */
  public List<PeerLink> observe() {
    Instant now = clock.instant();
    WgInterfaceState wg = wireGuard.show(ifName);
    Map<String, WgPeerState> byKey = new HashMap<>();
    wg.peers().forEach(p -> byKey.put(p.publicKey(), p));
    List<PeerLink> out = new ArrayList<>();
    for (PeerRecord peer : state.get().peers().values()) {
      WgPeerState p = byKey.get(peer.wireguardPublicKey());
      if (p == null) {
        out.add(new PeerLink(peer.clusterId(), LinkHealth.DOWN, Optional.empty(), Optional.empty(), Optional.empty(),
            0, 0));
        continue;
      }
      out.add(new PeerLink(peer.clusterId(), LinkHealth.of(p, now), p.latestHandshake(),
          p.latestHandshake().map(t -> Duration.between(t, now)), p.endpoint(), p.rxBytes(), p.txBytes()));
    }
    return out;
  }
}
