package io.meshwire.certs;

import java.util.Objects;

/**
 * {@code TokenRejectedException} says why {@link JoinTokens} refused a join token. The message never
 * contains the token itself, only its {@code tokenId} when known.
 */
public final class TokenRejectedException extends Exception {

  /** Why a join token was rejected. */
  public enum Reason {
    /** Not of the form {@code mwjt_<43 base64url characters>}. */
    MALFORMED,
    /** Well-formed but not in the store (mistyped, tampered, or from another hub). */
    UNKNOWN,
    /** Past its expiry. */
    EXPIRED,
    /** Already redeemed once. */
    USED,
    /** Revoked by an operator. */
    REVOKED,
    /** Bound to a different cluster than the one enrolling. */
    CLUSTER_MISMATCH
  }

  private final Reason reason;

  /** Creates a rejection with a one-line, human-readable {@code message}. */
  public TokenRejectedException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Returns why the token was rejected. */
  public Reason reason() {
    return reason;
  }
}
