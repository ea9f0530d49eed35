package io.meshwire.hub.membership;

import java.time.Duration;

/**
 * {@code RetryHint}: a store failure that is expected to pass (a busy or unreachable shared store)
 * and says when the caller should try again; the services send it as google.rpc.RetryInfo, which
 * agents add their own jitter to, instead of a bare error each agent retries on its own schedule.
 */
public interface RetryHint {

  /** The earliest the caller should try again. */
  Duration retryAfter();

  /** True when the store refused the call because too many are in flight (RESOURCE_EXHAUSTED), false when it could not commit it (UNAVAILABLE). */
  boolean overloaded();
}
