package io.meshwire.agent.path;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * {@code LinkObserver} turns two successive readings of one WireGuard peer ({@code wg show dump}:
 * counters, latest handshake, endpoint) into an {@link Observation} of the direct path. Pure; one
 * instance per link, owned by the thread that observes (it remembers when bytes last arrived).
 *
 * <p>While the link is direct (or trying), received bytes are the evidence: any growth is
 * {@link Evidence#ALIVE}; bytes sent while nothing has arrived for {@code silence} is a
 * {@link Evidence#MISS}; otherwise {@link Evidence#IDLE}. A healthy link never stays silent long
 * while we send: the peer's replies, or WireGuard's own passive keepalive, come back. A new link
 * is ALIVE at its first handshake. While relayed, evidence comes from direct probes instead (the
 * caller passes it), because WireGuard's counters then describe the relay.
 */
final class LinkObserver {

  /** One {@code wg show dump} reading of the peer. */
  public record Reading(Instant at, long rxBytes, long txBytes, Optional<Instant> latestHandshake,
      Optional<InetSocketAddress> endpoint) {}

  private final Duration silence;
  private Reading previous;
  private Instant lastReceived;

  public LinkObserver(Duration silence) {
    this.silence = silence;
  }

  /**
   * The observation for {@code now}.
   *
   * @param path the link's path before this observation
   * @param bridge the local bridge socket WireGuard uses when relayed (null if none is open)
   * @param direct the peer's announced gateway endpoints
   * @param probe the direct probe's outcome this tick (used only when relayed)
   * @param relayUp whether the peer's home relay is connected
   */
  public Observation observe(Reading now, Path path, InetSocketAddress bridge, Set<InetSocketAddress> direct,
      Evidence probe, boolean relayUp) {
    Reading before = previous;
    previous = now;
    if (before == null || now.rxBytes() > before.rxBytes()) {
      lastReceived = now.at();
    }
    Roam roam = roam(path, now.endpoint(), bridge, direct);
    Evidence evidence = switch (path) {
      case RELAYED -> probe;
      case TRYING -> now.latestHandshake().isPresent() ? Evidence.ALIVE : Evidence.MISS;
      case DIRECT -> {
        if (before == null) {
          yield Evidence.IDLE;
        }
        if (now.rxBytes() > before.rxBytes()) {
          yield Evidence.ALIVE;
        }
        boolean sent = now.txBytes() > before.txBytes();
        yield sent && !now.at().isBefore(lastReceived.plus(silence)) ? Evidence.MISS : Evidence.IDLE;
      }
    };
    return new Observation(now.at(), evidence, relayUp, roam);
  }

  /**
   * Whether WireGuard moved the endpoint by itself: it roams to the source of the peer's latest
   * authenticated packet, so this says which path the peer uses now.
   */
  static Roam roam(Path path, Optional<InetSocketAddress> endpoint, InetSocketAddress bridge,
      Set<InetSocketAddress> direct) {
    if (endpoint.isEmpty()) {
      return Roam.NONE;
    }
    InetSocketAddress e = endpoint.get();
    if (path == Path.DIRECT && e.equals(bridge)) {
      return Roam.TO_RELAY;
    }
    if (path == Path.RELAYED && direct.contains(e)) {
      return Roam.TO_DIRECT;
    }
    return Roam.NONE;
  }
}
