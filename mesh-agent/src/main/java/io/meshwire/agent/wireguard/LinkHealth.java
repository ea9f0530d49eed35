package io.meshwire.agent.wireguard;

import java.time.Duration;
import java.time.Instant;

/**
 * {@code LinkHealth} says whether the tunnel to a peer works, judged by its latest handshake.
 * WireGuard starts a new handshake {@link #REKEY_AFTER} (120 s) after the last one while traffic
 * flows (and persistent keepalive makes traffic flow), and rejects a session older than {@link
 * #REJECT_AFTER} (180 s). So a handshake at most 180 s old means the link is up; an older one, or
 * none, means it is down.
 */
public enum LinkHealth {
  UP,
  DOWN;

  /** WireGuard's REKEY_AFTER_TIME. */
  public static final Duration REKEY_AFTER = Duration.ofSeconds(120);

  /** WireGuard's REJECT_AFTER_TIME: a handshake older than this no longer carries traffic. */
  public static final Duration REJECT_AFTER = Duration.ofSeconds(180);

  /**
   * The health of {@code peer} at {@code now}. A handshake in the future (clock step) counts as
   * fresh.
   */
  public static LinkHealth of(WgPeerState peer, Instant now) {
    return peer.latestHandshake()
        .filter(at -> Duration.between(at, now).compareTo(REJECT_AFTER) <= 0)
        .map(at -> UP)
        .orElse(DOWN);
  }
}
