package io.meshwire.certs;

import java.util.Objects;

/**
 * {@code CreatedToken} is a join token as returned once by {@link JoinTokens#create}: the secret
 * {@code token} (shown to the operator, never stored) and its {@link TokenInfo}. {@link
 * #toString()} hides the token.
 */
public record CreatedToken(String token, TokenInfo info) {

  /** Checks for nulls. */
  public CreatedToken {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(info, "info");
  }

  /** Shows the info, never the token. */
  @Override
  public String toString() {
    return "CreatedToken[token=<hidden>, info=" + info + "]";
  }
}
