package io.meshwire.hub.auth;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code RateLimits} bounds how often one identity may call an expensive or state-changing
 * method (Resilience4j rate limiters, one per identity and method, never waiting). Thread-safe.
 */
public final class RateLimits {

  /** Permits per refresh period for one limited method. */
  public record Limit(int permits, Duration period) {
    public Limit {
      if (permits < 1 || period.isNegative() || period.isZero()) {
        throw new IllegalArgumentException("rate limit needs permits >= 1 and a positive period");
      }
    }
  }

  private final RateLimiterRegistry registry = RateLimiterRegistry.ofDefaults();
  private final RateLimiterConfig enroll;
  private final RateLimiterConfig announce;

  public RateLimits(Limit enroll, Limit announce) {
    this.enroll = config(enroll);
    this.announce = config(announce);
  }

  private static RateLimiterConfig config(Limit limit) {
    return RateLimiterConfig.custom()
        .limitForPeriod(limit.permits())
        .limitRefreshPeriod(limit.period())
        .timeoutDuration(Duration.ZERO)
        .build();
  }

  /** Takes a permit for enrollment by {@code identity}; empty if granted, else when to retry. */
  public Optional<Duration> enroll(String identity) {
    return acquire("enroll:" + identity, enroll);
  }

  /** Takes a permit for Announce/PublishViews by {@code identity}. */
  public Optional<Duration> announce(String identity) {
    return acquire("announce:" + identity, announce);
  }

  private Optional<Duration> acquire(String name, RateLimiterConfig config) {
    RateLimiter limiter = registry.rateLimiter(name, config);
    if (limiter.acquirePermission()) {
      return Optional.empty();
    }
    return Optional.of(config.getLimitRefreshPeriod());
  }
}
