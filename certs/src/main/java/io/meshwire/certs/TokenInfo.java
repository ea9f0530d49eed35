package io.meshwire.certs;

import java.time.Instant;
import java.util.Objects;

/**
 * {@code TokenInfo} describes a join token without revealing it: {@code tokenId} is the first 16
 * hex characters of SHA-256 of the token, safe to log and to pass to {@link JoinTokens#revoke}.
 * {@code state} is as of the moment the info was produced ({@code EXPIRED} is derived from the
 * clock, never stored).
 */
public record TokenInfo(String tokenId, String clusterId, Instant createdAt, Instant expiresAt, State state) {

  /** Lifecycle of a join token. */
  public enum State {
    /** Can be redeemed once. */
    ACTIVE,
    /** Was redeemed; cannot be used again. */
    USED,
    /** Was not redeemed before its expiry. */
    EXPIRED,
    /** Revoked by an operator before use. */
    REVOKED
  }

  /** Checks for nulls. */
  public TokenInfo {
    Objects.requireNonNull(tokenId, "tokenId");
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
    Objects.requireNonNull(state, "state");
  }
}
