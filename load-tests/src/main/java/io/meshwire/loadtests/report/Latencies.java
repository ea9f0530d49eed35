package io.meshwire.loadtests.report;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code Latencies} summarizes a set of durations (nanoseconds) as count, p50, p99 and max, in
 * milliseconds. Percentiles are nearest-rank over the sorted samples. Immutable.
 */
public record Latencies(int count, double p50Ms, double p99Ms, double maxMs) {

  public static final Latencies EMPTY = new Latencies(0, Double.NaN, Double.NaN, Double.NaN);

  /** Summarizes {@code nanos}; the array is sorted in place. */
  public static Latencies ofNanos(long[] nanos) {
    if (nanos.length == 0) {
      return EMPTY;
    }
    Arrays.sort(nanos);
    return new Latencies(nanos.length, ms(percentile(nanos, 50)), ms(percentile(nanos, 99)),
        ms(nanos[nanos.length - 1]));
  }

  /** Nearest-rank percentile of sorted {@code sorted}: the smallest value with at least p% at or below it. */
  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", count);
    m.put("p50_ms", p50Ms);
    m.put("p99_ms", p99Ms);
    m.put("max_ms", maxMs);
    return m;
  }
}
