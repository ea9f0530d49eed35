package io.meshwire.loadtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.meshwire.netlab.etcd.EtcdCluster;
import io.meshwire.loadtests.process.CpuSet;
import io.meshwire.loadtests.report.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick bench end to end at a small N: a real hub process, 200 agents with their own mTLS
 * connections, every scenario, regression thresholds on, and the JSON report holding every figure;
 * then a smaller run side by side with etcd when it is installed.
 */
class HubBenchQuickIT {

  private static final int AGENTS = 200;
  private static final int CHANGES = 50;

  @TempDir Path dir;

  @Test
  @Timeout(120)
  void quickBenchMeetsThresholdsAndReportsEveryFigure() throws Exception {
    Path json = dir.resolve("bench.json");
    int exit = BenchMain.run("hub", "--agents", Integer.toString(AGENTS), "--changes", Integer.toString(CHANGES),
        "--quick", "--no-etcd", "--json", json.toString(), "--report-dir", dir.resolve("report").toString(),
        "--work-dir", dir.resolve("work").toString(),
        // Fast reconnects keep the storm short; the default is the agent's own policy.
        "--backoff-cap", "2s",
        // A hub that starts fast (C1 only, serial GC), as the e2e tests run it: the IT checks
        // behaviour and generous limits, not the hub's peak speed.
        "--hub-jvm-arg=-XX:TieredStopAtLevel=1", "--hub-jvm-arg=-XX:+UseSerialGC",
        "--threshold-fanout-p99", "5s", "--threshold-join", "60s", "--threshold-storm", "60s");

    Object doc = Json.parse(Files.readString(json));
    assertEquals(0, exit, "violations: " + Json.at(doc, "violations"));
    Object run = Json.at(doc, "runs", 0);
    assertEquals(AGENTS, number(run, "agents"));
    assertEquals(AGENTS, number(run, "join", "caught_up"));
    assertEquals(AGENTS, number(run, "join", "snapshots"), "one snapshot per agent joining from scratch");
    assertEquals(CHANGES, number(run, "fanout", "to_all_watchers", "count"));
    assertEquals(CHANGES * AGENTS, number(run, "fanout", "per_delivery", "count"));
    assertEquals(0, number(run, "fanout", "incomplete"));
    assertEquals(AGENTS, number(run, "storm", "caught_up"));
    assertEquals(0, number(run, "storm", "snapshots"), "agents resume from the log, no snapshot");
    for (List<Object> figure : List.<List<Object>>of(
        List.of("join", "all_caught_up_s"),
        List.of("fanout", "to_all_watchers", "p50_ms"),
        List.of("fanout", "to_all_watchers", "p99_ms"),
        List.of("fanout", "bytes_per_change_per_agent"),
        List.of("fanout", "cpu_us_per_delivery"),
        List.of("storm", "kill_to_all_caught_up_s"),
        List.of("storm", "bytes_per_agent"),
        List.of("memory", "heap_per_agent_bytes"),
        List.of("memory", "rss_per_agent_bytes"))) {
      double v = number(run, figure.toArray());
      assertTrue(v > 0, figure + " = " + v);
    }
    assertTrue(Files.readString(dir.resolve("report").resolve("fanout.svg")).startsWith("<svg"));
    assertTrue(Files.readString(dir.resolve("report").resolve("results.md")).contains("| 200 |"));
  }

  /**
   * Side by side with etcd, pinned where the machine has two CPUs: the hub and etcd on the last
   * one, the load generator on the first, as the kernel reports each process's allowed CPUs.
   */
  @Test
  @Timeout(150)
  void etcdSideBySideReportsRatiosPinnedApartFromTheLoad() throws Exception {
    assumeTrue(Files.isExecutable(EtcdCluster.BINARY), "etcd is not installed (Debian etcd-server)");
    java.util.BitSet online = CpuSet.online();
    boolean pin = online.cardinality() >= 2 && Files.isExecutable(java.nio.file.Path.of("/usr/bin/taskset"));
    String hubCpu = Integer.toString(online.length() - 1);
    String loadCpu = Integer.toString(online.nextSetBit(0));
    String before = CpuSet.allowedList(ProcessHandle.current().pid());
    Path json = dir.resolve("bench.json");
    List<String> args = new java.util.ArrayList<>(List.of("hub", "--agents", "50", "--changes", "20", "--quick",
        "--with-etcd", "--json", json.toString(), "--work-dir", dir.resolve("work").toString(), "--backoff-cap", "2s",
        "--hub-jvm-arg=-XX:TieredStopAtLevel=1", "--hub-jvm-arg=-XX:+UseSerialGC"));
    if (pin) {
      args.addAll(List.of("--pin-hub", hubCpu, "--pin-load", loadCpu));
    }
    int exit;
    try {
      exit = BenchMain.run(args.toArray(String[]::new));
    } finally {
      if (pin) {
        // The bench pinned this JVM (the test's): give the rest of the suite every CPU back.
        CpuSet.parse(before).pin(ProcessHandle.current().pid());
      }
    }

    Object doc = Json.parse(Files.readString(json));
    assertEquals(0, exit, "violations: " + Json.at(doc, "violations"));
    if (pin) {
      assertEquals(hubCpu, Json.at(doc, "cpus_allowed", "hub"));
      assertEquals(hubCpu, Json.at(doc, "cpus_allowed", "etcd"));
      assertEquals(loadCpu, Json.at(doc, "cpus_allowed", "load"));
      assertEquals(hubCpu, Json.at(doc, "settings", "pin_hub"));
      assertEquals(online.cardinality(), number(doc, "machine", "cpus"), "the machine's CPUs, not the pinned bench's");
    }
    Object etcd = Json.at(doc, "runs", 0, "etcd");
    assertEquals(50, number(etcd, "created"));
    assertEquals(0, number(etcd, "fanout", "incomplete"));
    assertEquals(20, number(etcd, "fanout", "to_all_watchers", "count"));
    assertTrue(number(doc, "runs", 0, "hub_over_etcd", "fanout_p99") > 0);
    assertTrue(number(doc, "runs", 0, "hub_over_etcd", "rss_per_watcher") != 0);
  }

  /**
   * {@code --store etcd --replicas 3}: three hub replicas on a 3-member etcd cluster serve the same
   * agents next to the file-store hub; every change reaches every agent whichever replica took it,
   * and the agents of a SIGKILLed replica resume on another one without a snapshot.
   */
  @Test
  @Timeout(180)
  void replicasOnEtcdServeEveryAgentAndTakeOverAKilledReplicasAgentsWithoutSnapshot() throws Exception {
    assumeTrue(Files.isExecutable(EtcdCluster.BINARY), "etcd is not installed (Debian etcd-server)");
    Path json = dir.resolve("bench.json");
    int exit = BenchMain.run("hub", "--agents", "60", "--changes", "20", "--quick", "--no-etcd", "--store", "etcd",
        "--replicas", "3", "--json", json.toString(), "--work-dir", dir.resolve("work").toString(),
        "--backoff-cap", "2s", "--hub-jvm-arg=-XX:TieredStopAtLevel=1", "--hub-jvm-arg=-XX:+UseSerialGC");

    Object doc = Json.parse(Files.readString(json));
    assertEquals(0, exit, "violations: " + Json.at(doc, "violations"));
    Object replicated = Json.at(doc, "runs", 0, "replicated");
    assertEquals(3, number(replicated, "replicas"));
    assertEquals(60, number(replicated, "caught_up"));
    assertEquals(20, number(replicated, "fanout", "to_all_watchers", "count"));
    assertEquals(0, number(replicated, "fanout", "incomplete"));
    assertEquals(20, number(replicated, "failover", "agents_moved"), "agents 0, 3, 6, ... were on replica 0");
    assertEquals(20, number(replicated, "failover", "caught_up_elsewhere"));
    assertEquals(0, number(replicated, "failover", "agents_with_snapshot"));
    assertTrue(number(doc, "runs", 0, "replicated_over_file", "fanout_p99") > 0);
  }

  private static double number(Object doc, Object... path) {
    Object v = Json.at(doc, path);
    assertTrue(v instanceof Number, java.util.Arrays.toString(path) + " is " + v);
    return ((Number) v).doubleValue();
  }
}
