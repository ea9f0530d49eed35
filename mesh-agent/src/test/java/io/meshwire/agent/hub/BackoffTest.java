package io.meshwire.agent.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import io.github.resilience4j.core.functions.Either;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exponential back-off with full jitter on top of the hub's hint. Pure: seeded or pinned randomness. */
class BackoffTest {

  private static final Duration BASE = Duration.ofMillis(200);
  private static final Duration CAP = Duration.ofSeconds(30);

  /** Always draws the top of the range: the delay is then exactly the ceiling. */
  private static final RandomGenerator HIGHEST = new RandomGenerator() {
    @Override
    public long nextLong() {
      return Long.MAX_VALUE;
    }

    @Override
    public long nextLong(long bound) {
      return bound - 1;
    }
  };

  /** Always draws zero: the delay is then exactly the hint. */
  private static final RandomGenerator LOWEST = new RandomGenerator() {
    @Override
    public long nextLong() {
      return 0;
    }

    @Override
    public long nextLong(long bound) {
      return 0;
    }
  };

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
    Backoff backoff = new Backoff(BASE, CAP, HIGHEST);

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
    Backoff backoff = new Backoff(BASE, CAP, LOWEST);

    assertEquals(Duration.ofSeconds(10), backoff.delay(1, Optional.of(Duration.ofSeconds(10))));
    assertEquals(Duration.ofSeconds(10), backoff.delay(30, Optional.of(Duration.ofSeconds(10))));
  }

  @Test
  void aNegativeHintCountsAsNone() {
    Backoff backoff = new Backoff(BASE, CAP, LOWEST);

    assertEquals(Duration.ZERO, backoff.delay(1, Optional.of(Duration.ofSeconds(-5))));
  }

  @ParameterizedTest(name = "attempt {0}")
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void attemptsBelowOneCountAsTheFirst(int attempt) {
    Backoff backoff = new Backoff(BASE, CAP, HIGHEST);

    assertEquals(BASE, backoff.delay(attempt, Optional.empty()));
  }

  @Test
  void hugeAttemptsAndBasesStayAtTheCap() {
    Backoff backoff = new Backoff(Duration.ofDays(365 * 1000L), Duration.ofMinutes(5), HIGHEST);

    assertEquals(Duration.ofMinutes(5), backoff.delay(Integer.MAX_VALUE, Optional.empty()));
    assertEquals(Duration.ofMinutes(5), backoff.delay(64, Optional.empty()));
  }

  @Test
  void intervalFunctionReadsTheRetryHintOfAGrpcError() {
    Backoff backoff = new Backoff(BASE, CAP, LOWEST);
    StatusRuntimeException limited = StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.RESOURCE_EXHAUSTED.getNumber())
        .setMessage("Announce: rate limited")
        .addDetails(Any.pack(RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(7).setNanos(500_000_000)).build()))
        .build());

    assertEquals(Optional.of(Duration.ofMillis(7500)), HubErrors.retryAfter(limited));
    assertEquals(7500L, backoff.asIntervalFunction().apply(1, Either.left(limited)));
    assertEquals(0L, backoff.asIntervalFunction().apply(1, Either.left(Status.UNAVAILABLE.asRuntimeException())));
    assertEquals(0L, backoff.asIntervalFunction().apply(1, Either.right("a result")));
  }

  @Test
  void errorsWithoutDetailsCarryNoHint() {
    assertEquals(Optional.empty(), HubErrors.retryAfter(Status.UNAVAILABLE.asRuntimeException()));
    assertEquals(Optional.empty(), HubErrors.retryAfter(new IllegalStateException("not gRPC")));
  }

  @Test
  void refusedConnectionsKeepTheCeilingAtTwoSecondsWhateverTheAttempt() {
    Backoff backoff = new Backoff(BASE, CAP, HIGHEST);
    assertEquals(Duration.ofMillis(200), backoff.delay(1, Optional.empty(), true));
    assertEquals(Backoff.REFUSED_CAP, backoff.delay(12, Optional.empty(), true));
    assertEquals(CAP, backoff.delay(12, Optional.empty(), false), "other failures grow to the full cap");
    Backoff tight = new Backoff(BASE, Duration.ofSeconds(1), HIGHEST);
    assertEquals(Duration.ofSeconds(1), tight.delay(12, Optional.empty(), true), "a lower cap still wins");
  }

  @Test
  void theIntervalFunctionRecognisesARefusedConnectionInsideAGrpcError() {
    Backoff backoff = new Backoff(BASE, CAP, HIGHEST);
    var refused = Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new java.net.ConnectException("Connection refused: /198.18.0.2:7443")).asRuntimeException();
    var other = Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new java.io.IOException("Connection reset by peer")).asRuntimeException();
    assertEquals(Backoff.REFUSED_CAP.toMillis(), backoff.asIntervalFunction().apply(12, Either.left(refused)));
    assertEquals(CAP.toMillis(), backoff.asIntervalFunction().apply(12, Either.left(other)));
  }

  @Test
  void onlyARefusalCountsAsRefusedNotATimeoutOrAReset() {
    assertTrue(HubErrors.connectionRefused(Status.UNAVAILABLE
        .withCause(new java.net.ConnectException("Connection refused")).asRuntimeException()));
    assertEquals(false, HubErrors.connectionRefused(Status.UNAVAILABLE
        .withCause(new io.netty.channel.ConnectTimeoutException("connection timed out: /198.18.0.2:7443"))
        .asRuntimeException()));
    assertEquals(false, HubErrors.connectionRefused(Status.UNAVAILABLE.asRuntimeException()));
    assertEquals(false, HubErrors.connectionRefused(Status.RESOURCE_EXHAUSTED.withCause(
        new java.io.IOException("Connection refused, said someone")).asRuntimeException()));
  }
}
