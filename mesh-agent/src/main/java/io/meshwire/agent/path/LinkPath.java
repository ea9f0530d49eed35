package io.meshwire.agent.path;

import java.time.Duration;
import java.time.Instant;

/**
 * {@code LinkPath} is one link's path-selection state, and {@link #next} its whole behaviour: a
 * pure function from (state, observation, policy) to the next state. No clock, no I/O: the agent
 * feeds observations and applies {@link #path()} (the WireGuard endpoint) when it changes.
 *
 * <p>Rules, in order:
 * <ul>
 *   <li>TRYING: a handshake makes it DIRECT; {@code firstContact} without one, with the relay up,
 *       makes it RELAYED.
 *   <li>DIRECT: {@code missesToDowngrade} consecutive misses, with the relay up, make it RELAYED
 *       (without a relay it stays DIRECT: a relay that is down never disturbs a direct link). The
 *       peer's packets arriving through the relay (WireGuard roamed) make it RELAYED at once.
 *   <li>RELAYED: direct probes are due at {@link #nextProbe()}; each miss doubles the back-off up
 *       to {@code maxBackoff}; answered probes unbroken for {@code upgradeAfter} make it DIRECT.
 *       The peer's packets arriving directly (the peer upgraded first) make a probe due at once
 *       and, if that probe is answered within {@code firstContact}, DIRECT; until then the agent
 *       re-pins the bridge endpoint, so a peer whose packets get through one way only cannot pull
 *       the link onto a path that does not work both ways. A relay that went away makes it TRYING
 *       (direct is the only chance left).
 *   <li>Hysteresis: upgrading takes seconds of unbroken success, downgrading a few misses; a
 *       downgrade within {@code flapWindow} of an upgrade keeps the doubled back-off, so a lossy or
 *       asymmetric path settles on the relay instead of flapping; {@code stableAfter} of healthy
 *       direct resets it.
 *   <li>Relay only (the hub's peering policy): {@link #relayOnly} pins the link to RELAYED with no
 *       probe due; {@link #released} starts probing when the policy allows direct again.
 * </ul>
 *
 * @param since when the link entered {@code path} (the last switch)
 * @param reason why it did (for status and logs)
 * @param misses consecutive misses while DIRECT
 * @param streakSince start of the current unbroken run of answered probes while RELAYED, or null
 * @param backoff the wait after the next failed probe
 * @param nextProbe when a direct probe is due (RELAYED only), or null
 * @param lastUpgrade when it last went RELAYED to DIRECT, or null
 * @param peerDirectAt when WireGuard last roamed to the peer's direct endpoint while RELAYED, or null
 */
public record LinkPath(Path path, Instant since, String reason, int misses, Instant streakSince, Duration backoff,
    Instant nextProbe, Instant lastUpgrade, Instant peerDirectAt) {

  /** A new peer: its direct endpoint is being tried. */
  public static LinkPath start(Instant now, PathPolicy policy) {
    return new LinkPath(Path.TRYING, now, "new_peer", 0, null, policy.initialBackoff(), null, null, null);
  }

  /** A link restored from persisted state: same path, probes start over. */
  public static LinkPath restored(Path path, Instant since, Duration backoff, Instant now, PathPolicy policy) {
    Duration b = backoff.compareTo(policy.maxBackoff()) > 0 ? policy.maxBackoff() : backoff;
    return path == Path.RELAYED
        ? new LinkPath(Path.RELAYED, since, "restored", 0, null, b, now.plus(policy.initialBackoff()), null, null)
        : new LinkPath(path, since, "restored", 0, null, b, null, null, null);
  }

  /** The reason of a link the peering policy keeps on the relay ({@link #relayOnly}). */
  public static final String RELAY_ONLY = "relay_only";

  /**
   * The link as the hub's peering policy wants it (relay only): RELAYED, with no direct probe ever
   * due. A link already relayed keeps its {@link #since}.
   */
  public LinkPath relayOnly(Instant now) {
    if (pinned()) {
      return this;
    }
    Instant from = path == Path.RELAYED ? since : now;
    return new LinkPath(Path.RELAYED, from, RELAY_ONLY, 0, null, backoff, null, lastUpgrade, null);
  }

  /** Whether the policy pins this link to the relay (no probes until {@link #released}). */
  public boolean pinned() {
    return path == Path.RELAYED && RELAY_ONLY.equals(reason) && nextProbe == null;
  }

  /** The policy allows direct again: probes start now, and the usual upgrade rule applies. */
  public LinkPath released(Instant now) {
    return pinned() ? new LinkPath(path, since, reason, 0, null, backoff, now, lastUpgrade, null) : this;
  }

  /** Whether a direct probe should be sent now. */
  public boolean probeDue(Instant now) {
    return path == Path.RELAYED && nextProbe != null && !now.isBefore(nextProbe);
  }

  /** Whether {@code next} is a switch from this state (log it, apply it, count it). */
  public boolean switchedFrom(LinkPath previous) {
    return previous.path != path;
  }

  /** The state after {@code o}. */
  public LinkPath next(Observation o, PathPolicy policy) {
    Instant now = o.now();
    return switch (path) {
      case TRYING -> {
        if (o.direct() == Evidence.ALIVE) {
          yield to(Path.DIRECT, now, "handshake");
        }
        if (o.relayUp() && !now.isBefore(since.plus(policy.firstContact()))) {
          yield relayed(now, "no_handshake", policy);
        }
        yield this;
      }
      case DIRECT -> {
        boolean justUpgraded = lastUpgrade != null && now.isBefore(lastUpgrade.plus(policy.firstContact()));
        if (o.roam() == Roam.TO_RELAY && o.relayUp() && !justUpgraded) {
          yield relayed(now, "peer_relayed", policy);
        }
        yield switch (o.direct()) {
          case ALIVE -> {
            Duration b = !now.isBefore(since.plus(policy.stableAfter())) ? policy.initialBackoff() : backoff;
            yield misses == 0 && b.equals(backoff) ? this : with(0, streakSince, b, nextProbe);
          }
          case IDLE -> this;
          case MISS -> {
            int m = misses + 1;
            if (m >= policy.missesToDowngrade() && o.relayUp()) {
              yield relayed(now, "direct_silent", policy);
            }
            yield with(m, streakSince, backoff, nextProbe);
          }
        };
      }
      case RELAYED -> {
        if (!o.relayUp()) {
          yield new LinkPath(Path.TRYING, now, "relay_down", 0, null, backoff, null, lastUpgrade, null);
        }
        Instant peerDirect = o.roam() == Roam.TO_DIRECT ? now
            : peerDirectAt != null && now.isBefore(peerDirectAt.plus(policy.firstContact())) ? peerDirectAt : null;
        if (o.roam() == Roam.TO_DIRECT && o.direct() != Evidence.ALIVE) {
          // The peer went direct first: check at once that direct works both ways before following.
          yield new LinkPath(path, since, reason, 0, streakSince, backoff, now, lastUpgrade, peerDirect);
        }
        yield switch (o.direct()) {
          case IDLE -> peerDirect == peerDirectAt ? this
              : new LinkPath(path, since, reason, misses, streakSince, backoff, nextProbe, lastUpgrade, peerDirect);
          case ALIVE -> {
            if (peerDirect != null) {
              yield upgraded(now, "peer_direct");
            }
            Instant streak = streakSince == null ? now : streakSince;
            if (!now.isBefore(streak.plus(policy.upgradeAfter()))) {
              yield upgraded(now, "direct_recovered");
            }
            yield with(0, streak, backoff, now.plus(policy.probeEvery()));
          }
          case MISS -> {
            Duration doubled = min(backoff.multipliedBy(2), policy.maxBackoff());
            yield with(0, null, doubled, now.plus(doubled));
          }
        };
      }
    };
  }

  private LinkPath with(int misses, Instant streakSince, Duration backoff, Instant nextProbe) {
    return new LinkPath(path, since, reason, misses, streakSince, backoff, nextProbe, lastUpgrade, peerDirectAt);
  }

  private LinkPath to(Path p, Instant now, String why) {
    return new LinkPath(p, now, why, 0, null, backoff, null, lastUpgrade, null);
  }

  private LinkPath upgraded(Instant now, String why) {
    return new LinkPath(Path.DIRECT, now, why, 0, null, backoff, null, now, null);
  }

  private LinkPath relayed(Instant now, String why, PathPolicy policy) {
    // Flapping (down again soon after an upgrade): keep backing off. Otherwise start over.
    boolean flap = lastUpgrade != null && now.isBefore(lastUpgrade.plus(policy.flapWindow()));
    Duration wait = flap ? min(backoff.multipliedBy(2), policy.maxBackoff()) : policy.initialBackoff();
    return new LinkPath(Path.RELAYED, now, why, 0, null, wait, now.plus(wait), lastUpgrade, null);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
