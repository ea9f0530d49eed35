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

  /**
   * The p50, p99 and max (the upper bound of the highest non-empty bucket) of the observations
   * between two scrapes of a cumulative histogram in seconds (bucket upper bound to count): each
   * percentile is the upper bound of the bucket it falls in.
   */
  public static Latencies ofHistogramDelta(java.util.SortedMap<Double, Double> before,
      java.util.SortedMap<Double, Double> after) {
    java.util.List<double[]> delta = new java.util.ArrayList<>();
    after.forEach((le, count) -> delta.add(new double[] {le, count - before.getOrDefault(le, 0.0)}));
    double total = delta.isEmpty() ? 0 : delta.get(delta.size() - 1)[1];
    if (total <= 0) {
      return EMPTY;
    }
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    double max = Double.NaN;
    double previous = 0;
    for (double[] b : delta) {
      if (Double.isNaN(p50) && b[1] >= 0.5 * total) {
        p50 = b[0];
      }
      if (Double.isNaN(p99) && b[1] >= 0.99 * total) {
        p99 = b[0];
      }
      if (b[1] > previous) {
        max = b[0];
      }
      previous = b[1];
    }
    return new Latencies((int) total, p50 * 1000, p99 * 1000, max * 1000);
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
