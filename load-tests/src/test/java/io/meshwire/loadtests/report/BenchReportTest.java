package io.meshwire.loadtests.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BenchReportTest {

  private static final String DOC = """
      {"machine": {"cpus": 2, "cpu_model": "x", "memory_bytes": 1073741824, "jdk": "25", "os": "Linux", "date": "d"},
       "runs": [
        {"agents": 100, "fanout": {"to_all_watchers": {"p50_ms": 5, "p99_ms": 9, "max_ms": 10}},
         "etcd": {"fanout": {"to_all_watchers": {"p50_ms": 4, "p99_ms": 8}}}},
        {"agents": 10000, "fanout": {"to_all_watchers": {"p50_ms": 150, "p99_ms": 400, "max_ms": 500}},
         "etcd": {"fanout": {"to_all_watchers": {"p50_ms": 120, "p99_ms": 300}}}}]}
      """;

  @Test
  void plotHasBothSystemsOnLogAxesAndTheGoal() {
    String svg = BenchReport.fanoutSvg(Json.parse(DOC));

    assertTrue(svg.startsWith("<svg"), svg);
    assertTrue(svg.contains(">hub p99<") && svg.contains(">etcd p50<"), "legend");
    assertTrue(svg.contains(">10,000<") && svg.contains(">100<"), "decade ticks on x");
    assertTrue(svg.contains("goal: p99 &lt;= 150 ms"), "the target line");
    assertTrue(svg.trim().endsWith("</svg>"));
  }

  @Test
  void tableHasARowPerRunAndDashesForMissingFigures() {
    String md = BenchReport.markdown(Json.parse(DOC));

    assertTrue(md.startsWith("Machine: 2 CPUs (x), 1.0 GiB RAM"), md);
    assertTrue(md.contains("| 100 | NaN | 5.0 / 9.0 / 10.0 | 4.0 / 8.0 |"), md);
    assertTrue(md.contains("| 10,000 |"), md);
    assertTrue(md.contains("Not pinned: the hub, etcd and the load generator share every CPU."), md);
  }

  @Test
  void tableSaysWhereAPinnedRunRan() {
    String pinned = DOC.replace("\"runs\":", "\"settings\": {\"pin_hub\": \"1\", \"pin_load\": \"0\"}, \"runs\":");

    String md = BenchReport.markdown(Json.parse(pinned));

    assertTrue(md.contains("Pinned: hub and etcd on CPUs 1, load generator on CPUs 0."), md);
  }

  @Test
  void mergesASweepRunOneNAtATimeIntoOneTableOrderedByN() {
    Object large = Json.parse("""
        {"machine": {"cpus": 2}, "runs": [{"agents": 5000}], "violations": ["N=5000: storm 61.0 s > 60 s"]}
        """);
    Object small = Json.parse("""
        {"machine": {"cpus": 2}, "runs": [{"agents": 100}, {"agents": 1000}], "violations": []}
        """);

    Object merged = BenchReport.merge(java.util.List.of(large, small));

    assertEquals(java.util.List.of(100.0, 1000.0, 5000.0), ((java.util.List<?>) Json.at(merged, "runs")).stream()
        .map(r -> ((Number) Json.at(r, "agents")).doubleValue()).toList());
    assertEquals(java.util.List.of("N=5000: storm 61.0 s > 60 s"), Json.at(merged, "violations"));
    assertEquals(2.0, ((Number) Json.at(merged, "machine", "cpus")).doubleValue());
  }

  @Test
  void refusesToMergePinnedAndUnpinnedRuns() {
    Object unpinned = Json.parse("""
        {"runs": [{"agents": 100}]}
        """);
    Object pinned = Json.parse("""
        {"settings": {"pin_hub": "1", "pin_load": "0"}, "runs": [{"agents": 1000}]}
        """);

    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> BenchReport.merge(java.util.List.of(unpinned, pinned)));

    assertTrue(e.getMessage().startsWith("cannot merge \"Not pinned"), e.getMessage());
  }
}
