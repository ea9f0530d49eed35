package io.meshwire.loadtests.report;

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
}
