package io.meshwire.loadtests;

import io.meshwire.certs.MeshCa;
import io.meshwire.loadtests.agent.AgentFleet;
import io.meshwire.loadtests.fanout.FanoutTracker;
import io.meshwire.loadtests.process.HubProcess;
import io.meshwire.loadtests.process.ProcStats;
import io.meshwire.loadtests.report.Latencies;
import io.meshwire.netlab.etcd.EtcdCluster;
import io.meshwire.netlab.lab.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ReplicatedHubBench} is the {@code --store etcd --replicas R} part of {@code bench hub}: a
 * 3-member etcd cluster (TLS, loopback), R hub replicas in child JVMs on it sharing one mesh CA, and
 * N simulated agents spread over the replicas (agent i first on replica i % R, the others next in
 * its list). The same scenarios as the single hub: join, fan-out of M changes announced through
 * the agents' own replicas (so most changes cross replicas through etcd), memory per agent (all
 * replicas' heaps), and the storm of issue 15: replica 0 SIGKILLed, timed until each of its agents
 * is caught up on another replica. Children are stopped in every outcome. Not thread-safe.
 */
final class ReplicatedHubBench {

  private static final Logger log = LoggerFactory.getLogger(ReplicatedHubBench.class);
  private static final int ETCD_MEMBERS = 3;
  // The stages of a change on the replicas (Prometheus histograms, added up over the replicas):
  // the writer's transaction, acceptance to each replica's watch applying it, apply to each write.
  private static final String ETCD_COMMIT = "meshwire_hub_etcd_commit_seconds";
  private static final String ETCD_WATCH_DELAY = "meshwire_hub_etcd_watch_delay_seconds";
  private static final String FANOUT_LAG = "meshwire_hub_fanout_lag_seconds";
  private static final List<String> STAGES = List.of(ETCD_COMMIT, ETCD_WATCH_DELAY, FANOUT_LAG);

  private final HubBenchConfig config;
  private final HubBench bench;

  ReplicatedHubBench(HubBenchConfig config, HubBench bench) {
    this.config = config;
    this.bench = bench;
  }

  RunResult.Replicated run(int n, Path work) {
    int r = config.etcdReplicas();
    Duration timeout = config.phaseTimeout();
    List<HubProcess> replicas = new ArrayList<>();
    try (EtcdCluster etcd = EtcdCluster.start(config.etcdBinary(), ETCD_MEMBERS, config.etcdTiming())) {
      etcd.awaitLeader(Duration.ofSeconds(30));
      for (int i = 0; i < r; i++) {
        Path data = work.resolve("replica-" + i).resolve("data");
        if (i > 0) { // every replica mounts the same mesh CA (a Secret in the chart)
          copyTree(work.resolve("replica-0/data/ca"), data.resolve("ca"));
          copyTree(work.resolve("replica-0/data/admin"), data.resolve("admin"));
        }
        replicas.add(HubProcess.start(data, settings(etcd, "hub-" + i), config.hubJvmArgs()));
        log.info("replica ready index={} pid={} port={}", i, replicas.get(i).pid(), replicas.get(i).port());
      }
      HubBench.pause(config.settle());
      long baseHeap = heap(replicas);
      MeshCa ca = MeshCa.load(work.resolve("replica-0/data/ca"), InstantSource.system());
      List<Integer> ports = replicas.stream().map(HubProcess::port).toList();
      try (AgentFleet fleet = AgentFleet.create(ca, ports, n, config.eventLoopThreads(), config.backoff())) {
        double leaderChanges0 = leaderChanges(etcd);
        long j0 = System.nanoTime();
        int failed = fleet.announceAll(config.joinConcurrency(), timeout);
        Map<String, Long> announceErrors = fleet.announceErrors();
        fleet.watchAll();
        fleet.awaitCaughtUp(n, timeout);
        double joinSeconds = HubBench.seconds(System.nanoTime() - j0);
        log.info("replicated join done agents={} caught_up={} seconds={} announce_failures={} announce_errors={}", n,
            fleet.caughtUp(), joinSeconds, failed, announceErrors);

        HubBench.pause(config.settle());
        long heapN = heap(replicas);

        bench.warmUp(n, fleet::useTracker, k -> fleet.agent(k % n).announce());
        FanoutTracker tracker = new FanoutTracker(n, config.changes() + 16);
        fleet.useTracker(tracker);
        tracker.arm(true);
        Map<String, java.util.SortedMap<Double, Double>> stages0 = stages(replicas);
        double cpu0 = cpu(replicas);
        long f0 = System.nanoTime();
        int m = bench.runChanges(tracker, k -> fleet.agent(k % n).announce());
        long f1 = System.nanoTime();
        double cpu1 = cpu(replicas);
        Map<String, java.util.SortedMap<Double, Double>> stages1 = stages(replicas);
        Map<String, Latencies> stages = new java.util.LinkedHashMap<>();
        for (String stage : STAGES) {
          stages.put(stage, Latencies.ofHistogramDelta(stages0.get(stage), stages1.get(stage)));
        }
        tracker.arm(false);
        long leaderChanges = Math.round(leaderChanges(etcd) - leaderChanges0);
        FanoutTracker.Summary s = tracker.summarize();
        RunResult.Fanout fanout = new RunResult.Fanout(s.changes(), s.incomplete(), s.allWatchers(), s.perDelivery(),
            stages.get(FANOUT_LAG), Double.NaN, Double.NaN, (cpu1 - cpu0) * 1e6 / ((double) m * n), HubBench.seconds(f1 - f0));
        log.info("replicated fanout done agents={} p50_ms={} p99_ms={} incomplete={}", n, fanout.allWatchers().p50Ms(),
            fanout.allWatchers().p99Ms(), fanout.incomplete());

        RunResult.Failover failover = failover(replicas.get(0), fleet, n, r);
        log.info("replicated failover done moved={} caught_up={} p50_ms={} max_ms={} with_snapshot={}",
            failover.agentsMoved(), failover.caughtUp(), failover.catchUp().p50Ms(), failover.catchUp().maxMs(),
            failover.agentsWithSnapshot());
        return new RunResult.Replicated(r, ETCD_MEMBERS, joinSeconds, fleet.caughtUp() == n ? n : fleet.caughtUp(),
            failed, fanout, failover, baseHeap, heapN, leaderChanges, announceErrors, stages.get(ETCD_COMMIT),
            stages.get(ETCD_WATCH_DELAY));
      }
    } finally {
      replicas.forEach(HubProcess::close);
    }
  }

  /**
   * SIGKILLs {@code victim} (replica 0) and waits until every agent that was on it (i % r == 0)
   * is caught up again on another replica; each agent's time runs from the kill to its catch-up.
   */
  private RunResult.Failover failover(HubProcess victim, AgentFleet fleet, int n, int r) {
    long[] snapsBefore = fleet.snapshotCounts();
    List<Integer> moved = new ArrayList<>();
    for (int i = 0; i < n; i += r) {
      moved.add(i);
    }
    long k0 = System.nanoTime();
    victim.kill();
    long deadline = k0 + config.phaseTimeout().toNanos();
    while (System.nanoTime() < deadline && !allBackAfter(fleet, moved, k0)) {
      LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
    }
    long[] times = fleet.caughtUpTimes();
    long[] snapsAfter = fleet.snapshotCounts();
    List<Long> catchUp = new ArrayList<>();
    long withSnapshot = 0;
    for (int i : moved) {
      if (times[i] > k0) {
        catchUp.add(times[i] - k0);
      }
      if (snapsAfter[i] > snapsBefore[i]) {
        withSnapshot++;
      }
    }
    return new RunResult.Failover(moved.size(), catchUp.size(), withSnapshot,
        Latencies.ofNanos(catchUp.stream().mapToLong(Long::longValue).toArray()));
  }

  private static boolean allBackAfter(AgentFleet fleet, List<Integer> agents, long since) {
    long[] times = fleet.caughtUpTimes();
    for (int i : agents) {
      if (times[i] <= since) {
        return false;
      }
    }
    return true;
  }

  /** Each stage's histogram, bucket counts added up over the replicas still running. */
  private static Map<String, java.util.SortedMap<Double, Double>> stages(List<HubProcess> replicas) {
    Map<String, java.util.SortedMap<Double, Double>> out = new HashMap<>();
    for (String stage : STAGES) {
      java.util.SortedMap<Double, Double> sum = new java.util.TreeMap<>();
      replicas.forEach(h -> h.histogram(stage).forEach((le, count) -> sum.merge(le, count, Double::sum)));
      out.put(stage, sum);
    }
    return out;
  }

  /** The most leader changes any running member has seen (etcd's own counter). */
  private static double leaderChanges(EtcdCluster etcd) {
    double most = 0;
    for (int i = 0; i < etcd.size(); i++) {
      double seen = etcd.metric(i, "etcd_server_leader_changes_seen_total");
      if (!Double.isNaN(seen)) {
        most = Math.max(most, seen);
      }
    }
    return most;
  }

  private Map<String, String> settings(EtcdCluster etcd, String name) {
    Map<String, String> s = new HashMap<>(config.hubSettings());
    s.putAll(etcd.hubSettings(etcd.clientTls()));
    s.put("hub-name", name);
    return s;
  }

  /** Heap after a full GC, added up over the replicas still running. */
  private static long heap(List<HubProcess> replicas) {
    return replicas.stream().mapToLong(h -> ProcStats.heapAfterGcBytes(h.pid())).sum();
  }

  private static double cpu(List<HubProcess> replicas) {
    return replicas.stream().mapToDouble(h -> ProcStats.cpuSeconds(h.pid())).sum();
  }

  private static void copyTree(Path from, Path to) {
    try {
      FileTrees.copy(from, to);
    } catch (IOException e) {
      throw new UncheckedIOException("copying " + from + " to " + to + ": " + e.getMessage(), e);
    }
  }
}
