package io.meshwire.loadtests;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code HubBenchConfig} is every setting of one {@code bench hub} run, validated at construction
 * with a message naming the option. Immutable.
 *
 * @param agents the agent counts to run, one full run each (the sweep), ascending
 * @param changes membership changes in the fan-out phase (M)
 * @param changeInterval pause between a change reaching every watcher and the next change (closed loop)
 * @param joinConcurrency agents connecting and announcing at once in the join phase
 * @param eventLoopThreads Netty threads shared by all simulated agents
 * @param etcdMaxClients jetcd clients (connections) at most; watchers beyond share them round-robin
 * @param phaseTimeout bound on each phase (join, storm, a change's fan-out)
 * @param settle pause before memory is measured, so the hub is idle
 * @param hubSettings extra hub settings ({@code HubConfig} keys)
 * @param backoff the simulated agents' reconnect policy (the real agent's by default)
 * @param etcdReplicas hub replicas on a 3-member etcd cluster run next to the file-store hub (0: none)
 * @param etcdTiming the raft timing of that etcd cluster's members
 * @param pinHub CPUs for the system under test (the hub from its start, etcd once started); null: not pinned
 * @param pinLoad CPUs for this JVM (the simulated agents and the etcd watchers); null: not pinned
 * @param warmupChanges changes delivered before each fan-out phase and not measured (0: none)
 */
record HubBenchConfig(
    List<Integer> agents,
    int changes,
    boolean quick,
    boolean withEtcd,
    Path etcdBinary,
    Path json,
    Path reportDir,
    Duration changeInterval,
    int joinConcurrency,
    int eventLoopThreads,
    int etcdMaxClients,
    Duration phaseTimeout,
    Duration settle,
    List<String> hubJvmArgs,
    Map<String, String> hubSettings,
    Path workBase,
    boolean keepWork,
    io.meshwire.netaddr.Backoff backoff,
    Thresholds thresholds,
    int etcdReplicas,
    io.meshwire.netlab.etcd.EtcdCluster.Timing etcdTiming,
    io.meshwire.loadtests.process.CpuSet pinHub,
    io.meshwire.loadtests.process.CpuSet pinLoad,
    int warmupChanges) {

  public HubBenchConfig {
    agents = List.copyOf(agents);
    hubJvmArgs = List.copyOf(hubJvmArgs);
    hubSettings = Map.copyOf(hubSettings);
    require(!agents.isEmpty(), "--agents", "at least one agent count");
    for (int n : agents) {
      require(n >= 1 && n <= io.meshwire.loadtests.agent.AgentRecords.MAX_AGENTS, "--agents",
          n + " out of range 1.." + io.meshwire.loadtests.agent.AgentRecords.MAX_AGENTS);
    }
    require(changes >= 1 && changes <= 100_000, "--changes", changes + " out of range 1..100000");
    require(warmupChanges >= 0 && warmupChanges <= 100_000, "--warmup-changes", warmupChanges
        + " out of range 0..100000");
    require(joinConcurrency >= 1, "--join-concurrency", "must be >= 1");
    require(eventLoopThreads >= 1 && eventLoopThreads <= 64, "--client-threads", "out of range 1..64");
    require(etcdMaxClients >= 1, "--etcd-max-clients", "must be >= 1");
    require(!phaseTimeout.isNegative() && !phaseTimeout.isZero(), "--phase-timeout", "must be positive");
    require(etcdReplicas >= 0 && etcdReplicas <= 5, "--replicas", etcdReplicas + " out of range 1..5");
    require(!backoff.base().isNegative() && backoff.cap().compareTo(backoff.base()) >= 0, "--backoff-cap",
        "must be >= --backoff-base");
    if (pinHub != null && pinLoad != null) {
      java.util.BitSet shared = pinHub.cpus();
      shared.and(pinLoad.cpus());
      require(shared.isEmpty(), "--pin-load", pinLoad + " shares CPU " + shared.nextSetBit(0) + " with --pin-hub "
          + pinHub + " (a pinned run keeps the hub and the load generator apart)");
    }
    require(pinHub == null || etcdReplicas == 0, "--pin-hub", "not supported with --store etcd (the replicas and "
        + "their etcd members are not pinned)");
  }

  private static void require(boolean ok, String option, String problem) {
    if (!ok) {
      throw new IllegalArgumentException(option + ": " + problem);
    }
  }

  /**
   * Regression limits: a run that exceeds one fails the command (exit code 3). Generous on
   * purpose: they catch breakage, not noise, on a shared 2-core machine.
   */
  public record Thresholds(Duration fanoutP99, Duration join, Duration storm, boolean allCaughtUp) {
    public static Thresholds defaults() {
      return new Thresholds(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(60), true);
    }
  }
}
