package io.meshwire.agent.hub;

import io.github.resilience4j.core.IntervalBiFunction;
import io.github.resilience4j.core.functions.Either;
import java.time.Duration;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * {@code Backoff} is how long the agent waits before calling the hub again: exponential with full
 * jitter (a uniform random delay between zero and {@code min(cap, base * 2^attempt)}), added to
 * the hub's own hint when it gave one, so a thousand agents that lost the hub at the same moment
 * come back spread out and never sooner than the hub asked. Thread-safe if the random generator is.
 */
public final class Backoff {

  private final Duration base;
  private final Duration cap;
  private final RandomGenerator random;

  public Backoff(Duration base, Duration cap, RandomGenerator random) {
    this.base = base;
    this.cap = cap;
    this.random = random;
  }

  public static Backoff defaults() {
    return new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), RandomGenerator.getDefault());
  }

  /** The wait before attempt {@code attempt} (1-based) after a failure carrying {@code hint}. */
  public Duration delay(int attempt, Optional<Duration> hint) {
    long ceiling = Math.min(cap.toMillis(), base.toMillis() << Math.min(attempt - 1, 20));
    long jitter = ceiling <= 0 ? 0 : random.nextLong(ceiling + 1);
    return hint.orElse(Duration.ZERO).plusMillis(jitter);
  }

  /** The same policy as a Resilience4j interval function, reading hints from gRPC errors. */
  public IntervalBiFunction<Object> asIntervalFunction() {
    return (attempt, either) -> delay(attempt, hintOf(either)).toMillis();
  }

  private static Optional<Duration> hintOf(Either<Throwable, Object> either) {
    return either.isLeft() ? HubErrors.retryAfter(either.getLeft()) : Optional.empty();
  }
}
