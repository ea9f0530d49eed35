package io.meshwire.loadtests.agent;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code Backoff} is the reconnect policy of a simulated agent, the same as the real agent's:
 * the hub's retry hint plus a full-jitter delay, uniform in {@code [0, min(cap, base * 2^(attempt-1))]}.
 * Immutable; thread-safe.
 */
public record Backoff(Duration base, Duration cap) {

  public static Backoff agentDefaults() {
    return new Backoff(Duration.ofMillis(200), Duration.ofSeconds(15));
  }

  /** The wait before {@code attempt} (1-based) after a failure that carried {@code hint} (may be zero). */
  public Duration delay(int attempt, Duration hint) {
    long ceiling = Math.min(cap.toMillis(), base.toMillis() << Math.min(Math.max(attempt - 1, 0), 20));
    long jitter = ceiling <= 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling + 1);
    return hint.plusMillis(jitter);
  }
}
