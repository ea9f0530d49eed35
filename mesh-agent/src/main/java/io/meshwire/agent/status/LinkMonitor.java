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
 * {@code LinkMonitor} reads the tunnel's counters and turns them into per-peer link status. A link
 * is up while its latest handshake is younger than WireGuard's reject-after time (180 s) and the
 * peer has sent something (its received-bytes counter grew) within {@code downAfter}.
 *
 * <p>Why the counter: a session stays valid up to 180 s after its handshake, so the handshake
 * alone notices a cut tunnel only minutes later. Every peer carries a persistent keepalive shorter
 * than half of {@code downAfter} (checked by the agent config), so a live peer's counter grows even
 * when no workload talks; a counter that stood still for {@code downAfter} means the peer's packets
 * stopped arriving.
 *
 * <p>A peer first seen (at agent start, or with a new key) has no counter history. Its latest
 * handshake proves it sent something then; otherwise it gets half of {@code downAfter} (more than
 * one keepalive) to show it is alive. So after an agent restart (a kernel interface outlives it) a
 * tunnel that had died shows down within {@code downAfter / 2}, and a live one never flaps.
 *
 * <p>Keeps the last counter per peer between observations; one {@code wg show} per observation.
 * Thread-safe (observations are serialized).
 */
public final class LinkMonitor {

  /** One peer's link as observed now. */
  public record PeerLink(String clusterId, LinkHealth health, Optional<Instant> latestHandshake,
      Optional<Duration> handshakeAge, Optional<InetSocketAddress> endpoint, long rxBytes, long txBytes) {}

  /** The received-bytes counter of one peer key and when it last changed. */
  private record Received(long rxBytes, Instant since) {}

  private final WireGuard wireGuard;
  private final String ifName;
  private final Duration downAfter;
  private final Supplier<AgentState> state;
  private final InstantSource clock;
  private final Map<String, Received> received = new HashMap<>(); // by public key

  /**
   * @param downAfter how long a peer may send nothing before its link counts as down
   */
  public LinkMonitor(WireGuard wireGuard, String ifName, Duration downAfter, Supplier<AgentState> state,
      InstantSource clock) {
    this.wireGuard = wireGuard;
    this.ifName = ifName;
    this.downAfter = downAfter;
    this.state = state;
    this.clock = clock;
  }

  /** Every peer of the state, with what WireGuard reports for its key (DOWN when it has no entry). */
  public synchronized List<PeerLink> observe() {
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
      out.add(new PeerLink(peer.clusterId(), health(p, now), p.latestHandshake(),
          p.latestHandshake().map(t -> Duration.between(t, now)), p.endpoint(), p.rxBytes(), p.txBytes()));
    }
    received.keySet().retainAll(byKey.keySet());
    return out;
  }

  private LinkHealth health(WgPeerState peer, Instant now) {
    Received last = received.get(peer.publicKey());
    if (last == null) {
      Instant grace = now.minus(downAfter.dividedBy(2));
      Instant handshake = peer.latestHandshake().filter(t -> !t.isAfter(now)).orElse(grace);
      last = new Received(peer.rxBytes(), handshake.isAfter(grace) ? handshake : grace);
      received.put(peer.publicKey(), last);
    } else if (last.rxBytes() != peer.rxBytes()) {
      last = new Received(peer.rxBytes(), now);
      received.put(peer.publicKey(), last);
    }
    boolean silent = Duration.between(last.since(), now).compareTo(downAfter) > 0;
    return silent ? LinkHealth.DOWN : LinkHealth.of(peer, now);
  }
}
