package io.meshwire.loadtests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.loadtests.report.Latencies;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ThresholdsTest {

  private static final HubBenchConfig.Thresholds LIMITS = HubBenchConfig.Thresholds.defaults();

  private static RunResult run(double p99Ms, double joinSeconds, int stormCaughtUp) {
    return run(p99Ms, joinSeconds, stormCaughtUp, 0);
  }

  private static RunResult run(double p99Ms, double joinSeconds, int stormCaughtUp, long stormSnapshots) {
    Latencies fanout = new Latencies(10, p99Ms / 2, p99Ms, p99Ms);
    return new RunResult(100, 10,
        new RunResult.Join(joinSeconds, 1, 1, 100, 0, 100, 100, 0, 1000, 1),
        new RunResult.Fanout(10, 0, fanout, fanout, Latencies.EMPTY, 170, 170, 50, 1),
        new RunResult.Storm(5, 3, 2, stormCaughtUp, stormSnapshots, stormSnapshots, stormSnapshots, 0, 70, fanout,
            java.util.Map.of(), 0),
        new RunResult.Memory(1, 1, 2, 2, 2, 1),
        null);
  }

  @Test
  void aRunWithinEveryLimitHasNoViolation() {
    assertEquals(List.of(), HubBenchCommand.violations(LIMITS, List.of(run(400, 10, 100))));
  }

  @Test
  void eachExceededLimitIsOneLineNamingTheRunAndTheFigure() {
    assertEquals(List.of("N=100: fan-out p99 6000.0 ms > 5000 ms", "N=100: join 61.0 s > 60 s",
            "N=100: storm: 99 of 100 caught up"),
        HubBenchCommand.violations(LIMITS, List.of(run(6000, 61, 99))));
  }

  @Test
  void aSnapshotSentToAResumingAgentInTheStormIsAViolation() {
    assertEquals(List.of("N=100: storm: 3 snapshots sent to resuming agents"),
        HubBenchCommand.violations(LIMITS, List.of(run(400, 10, 100, 3))));
  }

  @Test
  void replicasOnEtcdWhoseFailedOverAgentsMissOrNeedASnapshotAreViolations() {
    RunResult file = run(400, 10, 100);
    Latencies fanout = new Latencies(10, 300, 500, 600);
    RunResult.Fanout replicatedFanout = new RunResult.Fanout(10, 0, fanout, fanout, Latencies.EMPTY, Double.NaN,
        Double.NaN, 60, 1);
    RunResult fine = new RunResult(100, 10, file.join(), file.hubFanout(), file.storm(), file.hubMemory(), null,
        new RunResult.Replicated(3, 3, 12, 100, 0, replicatedFanout,
            new RunResult.Failover(34, 34, 0, new Latencies(34, 600, 900, 950)), 1, 2, 0, Map.of("UNAVAILABLE", 3L), Latencies.EMPTY, Latencies.EMPTY));
    assertEquals(List.of(), HubBenchCommand.violations(LIMITS, List.of(fine)));
    assertEquals("N=100 etcd x3 replicas: fan-out p50/p99 300.0/500.0 ms (file hub 200.0/400.0 ms: 1.50x/1.25x); "
        + "heap/agent 0.0 KiB (file hub 0.0 KiB); failover of 34 agents: p50 600 ms, max 950 ms, 34 caught up "
        + "elsewhere, 0 snapshots; join 12.0 s, announce attempts refused {UNAVAILABLE=3}, etcd leader changes 0",
        HubBenchCommand.replicatedLine(fine));

    RunResult broken = new RunResult(100, 10, file.join(), file.hubFanout(), file.storm(), file.hubMemory(), null,
        new RunResult.Replicated(3, 3, 12, 100, 0, replicatedFanout,
            new RunResult.Failover(34, 33, 2, new Latencies(33, 600, 900, 950)), 1, 2, 0, Map.of(), Latencies.EMPTY, Latencies.EMPTY));
    assertEquals(List.of("N=100: replica failover: 33 of 34 agents caught up elsewhere, 2 with a snapshot"),
        HubBenchCommand.violations(LIMITS, List.of(broken)));
  }
}
