package io.meshwire.agent.hub;

import java.time.Instant;

/**
 * {@code HubState} is the agent's standing with the hub, as {@code /status} and the metrics show
 * it: a condition, since when, and the hub's last word (a bounded one-line detail, empty when
 * connected).
 */
public record HubState(Condition condition, Instant since, String detail) {

  /** Where the session stands. */
  public enum Condition {
    /** No session yet since the agent started. */
    CONNECTING,
    /** Announced, following the Watch stream. */
    CONNECTED,
    /** The last attempt failed in a way another attempt may fix; retried with back-off. */
    UNREACHABLE,
    /**
     * The hub refused this agent's identity or record (expired or unknown certificate, spent join
     * token, a WireGuard key another cluster holds): held, retried rarely, an operator must act.
     */
    REFUSED,
    /** The hub revoked this cluster's certificate: the session stopped; rejoin to come back. */
    REVOKED;

    /** Whether the hub refuses the agent (no back-off retries). */
    public boolean held() {
      return this == REFUSED || this == REVOKED;
    }
  }
}
