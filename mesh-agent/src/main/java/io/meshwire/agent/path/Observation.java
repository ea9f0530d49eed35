package io.meshwire.agent.path;

import java.time.Instant;

/**
 * One look at a link, taken every tick (about a second) by the agent.
 *
 * @param direct what the direct path did since the previous observation
 * @param relayUp whether the connection to the peer's home relay is up
 * @param roam whether WireGuard moved the endpoint by itself
 */
public record Observation(Instant now, Evidence direct, boolean relayUp, Roam roam) {

  public static Observation of(Instant now, Evidence direct, boolean relayUp) {
    return new Observation(now, direct, relayUp, Roam.NONE);
  }
}
