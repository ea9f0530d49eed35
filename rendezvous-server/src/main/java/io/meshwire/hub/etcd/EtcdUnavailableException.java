package io.meshwire.hub.etcd;

import io.meshwire.hub.membership.RetryHint;
import java.io.Serial;
import java.time.Duration;

/**
 * {@code EtcdUnavailableException}: a hub write was not committed because etcd has no quorum or
 * cannot be reached, or (overloaded) because this replica already has as many writes in flight to
 * etcd as it allows. The message says which, for the status the caller gets, with a retry hint.
 */
public final class EtcdUnavailableException extends RuntimeException implements RetryHint {

  @Serial private static final long serialVersionUID = 1L;

  private final Duration retryAfter;
  private final boolean overloaded;

  public EtcdUnavailableException(String message, Throwable cause) {
    this(message, cause, Duration.ofSeconds(1), false);
  }

  EtcdUnavailableException(String message, Throwable cause, Duration retryAfter, boolean overloaded) {
    super(message, cause);
    this.retryAfter = retryAfter;
    this.overloaded = overloaded;
  }

  @Override
  public Duration retryAfter() {
    return retryAfter;
  }

  @Override
  public boolean overloaded() {
    return overloaded;
  }
}
