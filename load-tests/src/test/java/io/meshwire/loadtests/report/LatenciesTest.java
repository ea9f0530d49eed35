package io.meshwire.loadtests.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class LatenciesTest {

  @Test
  void nearestRankPercentilesInMilliseconds() {
    long[] nanos = LongStream.rangeClosed(1, 100).map(i -> i * 1_000_000).toArray();

    Latencies l = Latencies.ofNanos(nanos);

    assertEquals(100, l.count());
    assertEquals(50.0, l.p50Ms());
    assertEquals(99.0, l.p99Ms());
    assertEquals(100.0, l.maxMs());
  }

  @Test
  void oneSampleIsEveryPercentile() {
    Latencies l = Latencies.ofNanos(new long[] {7_000_000});
    assertEquals(7.0, l.p50Ms());
    assertEquals(7.0, l.p99Ms());
  }

  @Test
  void noSamplesIsNaN() {
    assertTrue(Double.isNaN(Latencies.ofNanos(new long[0]).p99Ms()));
  }
}
