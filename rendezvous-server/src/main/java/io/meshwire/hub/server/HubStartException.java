package io.meshwire.hub.server;

import java.io.Serial;

/**
 * {@code HubStartException}: the hub refuses to start, and the message says why and what the
 * operator can do about it. An expected outcome: callers print the message, not a stack trace.
 */
public final class HubStartException extends RuntimeException {

  @Serial private static final long serialVersionUID = 1L;

  public HubStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
