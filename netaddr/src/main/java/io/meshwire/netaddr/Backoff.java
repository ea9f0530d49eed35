package io.meshwire.netaddr;

import java.time.Duration;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * {@code Backoff} is how long the agent waits before calling the hub again: exponential with full
 * jitter (a uniform random delay between zero and {@code min(cap, base * 2^(attempt - 1))}), added
 * to the hub's own hint when it gave one, so a thousand agents that lost the hub at the same moment
 * come back spread out and never sooner than the hub asked. Thread-safe if the random generator is.
 *
 * <p>It lives here, with no dependency, because every client of the hub shares it: the agent, and
 * the load tests' simulated agents (which must not pull the agent in). Reading the hub's hint out of
 * a gRPC error is the caller's part ({@code HubErrors} in the agent).
 */
public final class Backoff {

  /** Doubling stops here; {@code base << 20} is already far beyond any sensible cap. */
  private static final int MAX_DOUBLINGS = 20;

  private final Duration base;
  private final Duration cap;
  private final RandomGenerator random;

  public Backoff(Duration base, Duration cap, RandomGenerator random) {
    if (base.isNegative() || cap.isNegative()) {
      throw new IllegalArgumentException("backoff: base " + base + " and cap " + cap + " must not be negative");
    }
    this.base = base;
    this.cap = cap;
    this.random = random;
  }

  /**
   * The ceiling while connections are refused. A refusal means nothing listens (the hub process is
   * down or restarting): the hub's host answers each attempt with a reset, which costs the hub
   * nothing, so agents keep trying often and a restarted hub has them back within this window
   * instead of the full {@code cap}. Once connections are accepted again, any further failure
   * (a handshake timing out, an overload refusal and its hint) gets the full ceiling of its attempt.
   */
  public static final Duration REFUSED_CAP = Duration.ofSeconds(2);

  /** The smallest ceiling (attempt 1). */
  public Duration base() {
    return base;
  }

  /** The largest ceiling, whatever the attempt. */
  public Duration cap() {
    return cap;
  }

  /**
   * 200 ms doubling to a 15 s ceiling: a returning hub sees its agents back within ~15 s, spread
   * evenly over that window by the jitter (the hub's own hint comes on top when it is overloaded).
   */
  public static Backoff defaults() {
    return new Backoff(Duration.ofMillis(200), Duration.ofSeconds(15), RandomGenerator.getDefault());
  }

  /**
   * The wait before attempt {@code attempt} (1-based; anything lower counts as 1) after a failure
   * carrying {@code hint}. A negative hint counts as none.
   */
  public Duration delay(int attempt, Optional<Duration> hint) {
    return delay(attempt, hint, false);
  }

  /**
   * Like {@link #delay(int, Optional)}; when the attempt failed because the connection was
   * {@code refused}, the ceiling is at most {@link #REFUSED_CAP}.
   */
  public Duration delay(int attempt, Optional<Duration> hint, boolean refused) {
    int doublings = Math.clamp(attempt - 1L, 0, MAX_DOUBLINGS);
    long baseMillis = base.toMillis();
    long capMillis = refused ? Math.min(cap.toMillis(), REFUSED_CAP.toMillis()) : cap.toMillis();
    // Saturate instead of overflowing for a huge base.
    long grown = baseMillis > (Long.MAX_VALUE >> doublings) ? Long.MAX_VALUE : baseMillis << doublings;
    long ceiling = Math.min(Math.min(capMillis, grown), Long.MAX_VALUE - 1);
    long jitter = ceiling <= 0 ? 0 : random.nextLong(ceiling + 1);
    return hint.filter(h -> !h.isNegative()).orElse(Duration.ZERO).plusMillis(jitter);
  }

  /**
   * Whether {@code t} (or a cause of it, e.g. of a gRPC {@code UNAVAILABLE}) is a refused TCP
   * connection: the address answered, nothing listens there (the case of {@link #REFUSED_CAP}). A
   * connect that timed out is not one.
   */
  public static boolean connectionRefused(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.net.ConnectException && c.getMessage() != null
          && c.getMessage().toLowerCase(java.util.Locale.ROOT).contains("refused")) {
        return true;
      }
    }
    return false;
  }
}
