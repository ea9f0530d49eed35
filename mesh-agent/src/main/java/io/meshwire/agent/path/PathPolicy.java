package io.meshwire.agent.path;

import io.meshwire.netaddr.Durations;
import java.time.Duration;

/**
 * {@code PathPolicy}: the timings of path selection, checked at construction (messages name the
 * agent setting, e.g. {@code path-first-contact}).
 *
 * @param firstContact how long a new peer may go without a handshake before the link is relayed
 * @param missesToDowngrade consecutive missed observations (sent, nothing back) that move a direct
 *     link to the relay: with one observation a second, the detection time
 * @param upgradeAfter how long direct probes must keep succeeding, unbroken, before a relayed link
 *     goes back to direct
 * @param probeEvery probe interval during a success streak
 * @param initialBackoff wait before the first direct probe after a downgrade
 * @param maxBackoff ceiling of the doubling wait between failed probes ("a few minutes")
 * @param flapWindow a downgrade this soon after an upgrade doubles the back-off instead of resetting it
 * @param stableAfter a direct link healthy this long resets the back-off
 */
public record PathPolicy(Duration firstContact, int missesToDowngrade, Duration upgradeAfter, Duration probeEvery,
    Duration initialBackoff, Duration maxBackoff, Duration flapWindow, Duration stableAfter) {

  public PathPolicy {
    positive(firstContact, "path-first-contact");
    positive(upgradeAfter, "path-upgrade-after");
    positive(probeEvery, "path-probe-every");
    positive(initialBackoff, "path-probe-backoff");
    positive(maxBackoff, "path-probe-backoff-max");
    positive(flapWindow, "path-flap-window");
    positive(stableAfter, "path-stable-after");
    if (missesToDowngrade < 1 || missesToDowngrade > 60) {
      throw new IllegalArgumentException("path-misses: " + missesToDowngrade + " must be 1..60");
    }
    if (maxBackoff.compareTo(initialBackoff) < 0 || maxBackoff.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException("path-probe-backoff-max: " + Durations.format(maxBackoff)
          + " must be between path-probe-backoff (" + Durations.format(initialBackoff) + ") and 10m");
    }
  }

  private static void positive(Duration d, String name) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + ": " + (d == null ? "missing" : Durations.format(d))
          + " must be positive");
    }
  }

  /**
   * Defaults: a new peer is relayed after 6 s without a handshake, a direct link after 3 silent
   * seconds; back to direct after 10 s of answered probes; probes back off from 5 s to 4 min.
   */
  public static PathPolicy defaults() {
    return new PathPolicy(Duration.ofSeconds(6), 3, Duration.ofSeconds(10), Duration.ofSeconds(1),
        Duration.ofSeconds(5), Duration.ofMinutes(4), Duration.ofMinutes(2), Duration.ofMinutes(10));
  }
}
