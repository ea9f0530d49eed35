package io.meshwire.netaddr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exponential back-off with full jitter on top of the hub's hint. Pure: seeded or pinned randomness. */
class BackoffTest {

  private static final Duration BASE = Duration.ofMillis(200);
  private static final Duration CAP = Duration.ofSeconds(30);

  private static long ceilingMillis(int attempt) {
    return Math.min(CAP.toMillis(), BASE.toMillis() << Math.min(attempt - 1, 20));
  }

  @ParameterizedTest(name = "hint {0} ms")
  @ValueSource(longs = {0, 1500, 10_000})
  void delaysStayWithinHintPlusTheExponentialCeiling(long hintMillis) {
    Backoff backoff = new Backoff(BASE, CAP, new SplittableRandom(42));
    Optional<Duration> hint = hintMillis == 0 ? Optional.empty() : Optional.of(Duration.ofMillis(hintMillis));
    for (int attempt = 1; attempt <= 40; attempt++) {
      for (int sample = 0; sample < 200; sample++) {
        long d = backoff.delay(attempt, hint).toMillis();
        long ceiling = ceilingMillis(attempt);
        assertTrue(d >= hintMillis && d <= hintMillis + ceiling,
            "attempt " + attempt + ": " + d + " ms not in [" + hintMillis + ", " + (hintMillis + ceiling) + "]");
      }
    }
  }

  @Test
  void ceilingDoublesFromTheBaseUntilTheCap() {
    Backoff backoff = new Backoff(BASE, CAP, PinnedRandom.HIGHEST);

    long[] expected = {200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000};
    for (int attempt = 1; attempt <= expected.length; attempt++) {
      assertEquals(Duration.ofMillis(expected[attempt - 1]), backoff.delay(attempt, Optional.empty()),
          "attempt " + attempt);
    }
  }

  @Test
  void jitteredDelaysGrowWithAttemptsOnAverage() {
    Backoff backoff = new Backoff(BASE, CAP, new SplittableRandom(7));
    double previous = 0;
    for (int attempt = 1; attempt <= 8; attempt++) {
      double mean = 0;
      for (int sample = 0; sample < 2000; sample++) {
        mean += backoff.delay(attempt, Optional.empty()).toMillis() / 2000.0;
      }
      assertTrue(mean > previous * 1.5, "attempt " + attempt + " mean " + mean + " after " + previous);
      previous = mean;
    }
  }

  @Test
  void jitterSpreadsDelaysOverTheWholeRange() {
    Backoff backoff = new Backoff(BASE, CAP, new SplittableRandom(3));
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int sample = 0; sample < 2000; sample++) {
      long d = backoff.delay(20, Optional.empty()).toMillis();
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    assertTrue(min < 3_000 && max > 27_000, "min " + min + " max " + max);
  }

  @Test
  void neverSoonerThanTheHubsHint() {
    Backoff backoff = new Backoff(BASE, CAP, PinnedRandom.LOWEST);

    assertEquals(Duration.ofSeconds(10), backoff.delay(1, Optional.of(Duration.ofSeconds(10))));
    assertEquals(Duration.ofSeconds(10), backoff.delay(30, Optional.of(Duration.ofSeconds(10))));
  }

  @Test
  void aNegativeHintCountsAsNone() {
    Backoff backoff = new Backoff(BASE, CAP, PinnedRandom.LOWEST);

    assertEquals(Duration.ZERO, backoff.delay(1, Optional.of(Duration.ofSeconds(-5))));
  }

  @ParameterizedTest(name = "attempt {0}")
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void attemptsBelowOneCountAsTheFirst(int attempt) {
    Backoff backoff = new Backoff(BASE, CAP, PinnedRandom.HIGHEST);

    assertEquals(BASE, backoff.delay(attempt, Optional.empty()));
  }

  @Test
  void hugeAttemptsAndBasesStayAtTheCap() {
    Backoff backoff = new Backoff(Duration.ofDays(365 * 1000L), Duration.ofMinutes(5), PinnedRandom.HIGHEST);

    assertEquals(Duration.ofMinutes(5), backoff.delay(Integer.MAX_VALUE, Optional.empty()));
    assertEquals(Duration.ofMinutes(5), backoff.delay(64, Optional.empty()));
  }

  @Test
  void refusedConnectionsKeepTheCeilingAtTwoSecondsWhateverTheAttempt() {
    Backoff backoff = new Backoff(BASE, CAP, PinnedRandom.HIGHEST);
    assertEquals(Duration.ofMillis(200), backoff.delay(1, Optional.empty(), true));
    assertEquals(Backoff.REFUSED_CAP, backoff.delay(12, Optional.empty(), true));
    assertEquals(CAP, backoff.delay(12, Optional.empty(), false), "other failures grow to the full cap");
    Backoff tight = new Backoff(BASE, Duration.ofSeconds(1), PinnedRandom.HIGHEST);
    assertEquals(Duration.ofSeconds(1), tight.delay(12, Optional.empty(), true), "a lower cap still wins");
  }

  @Test
  void onlyARefusalCountsAsRefusedNotATimeoutOrAReset() {
    assertTrue(Backoff.connectionRefused(new RuntimeException("UNAVAILABLE",
        new java.net.ConnectException("Connection refused: /198.18.0.2:7443"))));
    assertFalse(Backoff.connectionRefused(new java.net.ConnectException("connection timed out: /198.18.0.2:7443")));
    assertFalse(Backoff.connectionRefused(new java.io.IOException("Connection refused, said someone")));
    assertFalse(Backoff.connectionRefused(new RuntimeException("no cause")));
  }
}
