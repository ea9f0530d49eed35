package io.meshwire.agent.path;

/**
 * What one observation says about the direct path. While DIRECT or TRYING it comes from
 * WireGuard's counters (received bytes grew: {@code ALIVE}; sent grew but nothing came back:
 * {@code MISS}; nothing sent: {@code IDLE}); while RELAYED, from a direct probe (answered:
 * {@code ALIVE}, timed out: {@code MISS}, none due: {@code IDLE}).
 */
public enum Evidence {
  ALIVE,
  MISS,
  IDLE
}
