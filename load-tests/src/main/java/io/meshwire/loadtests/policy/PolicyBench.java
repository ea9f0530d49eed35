package io.meshwire.loadtests.policy;

import io.grpc.ManagedChannel;
import io.meshwire.certs.MeshCa;
import io.meshwire.loadtests.agent.AgentFleet;
import io.meshwire.loadtests.agent.AgentRecords;
import io.meshwire.loadtests.agent.SimulatedAgent;
import io.meshwire.loadtests.process.HubProcess;
import io.meshwire.loadtests.process.ProcStats;
import io.meshwire.netaddr.Backoff;
import io.meshwire.proto.admin.v1.ApplyPolicyRequest;
import io.meshwire.proto.admin.v1.ApplyPolicyResponse;
import io.meshwire.proto.admin.v1.DeletePolicyRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.SetClusterLabelsRequest;
import io.meshwire.proto.policy.v1.PeeringMode;
import io.meshwire.proto.policy.v1.PeeringPolicy;
import io.meshwire.proto.policy.v1.Selector;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PolicyBench} measures what one peering-policy change costs at N simulated agents: N agents
 * watch a real hub process, labelled {@code team=t0..t(G-1)} (N/G each) and peering only within their
 * team; then one policy change touches team t0 only, and the bench counts the Watch bytes every agent
 * receives and the time until every affected agent has its delta. Two changes: t0's policy becomes
 * relay-only (each t0 agent receives its team's records again, with the mode), then a deny policy
 * splits t0 (each t0 agent loses its team). Each change is reverted after it is measured (and the
 * revert delivered), {@code rounds} times; the result is the median of each figure.
 */
final class PolicyBench {

  private static final Logger log = LoggerFactory.getLogger(PolicyBench.class);

  /** One measured change. */
  public record Result(String change, int agents, int affected, double applySeconds, double deliveredSeconds,
      long affectedBytesTotal, long affectedBytesMedian, int unaffectedWithBytes, long unaffectedBytesMax,
      double hubCpuSeconds) {
    public String line() {
      return String.format(java.util.Locale.ROOT, "%s: agents=%d affected=%d apply_ms=%.1f delivered_ms=%.1f "
              + "affected_bytes_total=%d affected_bytes_median=%d unaffected_with_bytes=%d unaffected_bytes_max=%d "
              + "hub_cpu_ms=%.0f", change, agents, affected, applySeconds * 1e3, deliveredSeconds * 1e3,
          affectedBytesTotal, affectedBytesMedian, unaffectedWithBytes, unaffectedBytesMax, hubCpuSeconds * 1e3);
    }

    /** Each figure's median over {@code rounds} (the upper one of an even count); the worst of the 0-byte counts. */
    static Result median(List<Result> rounds) {
      Result first = rounds.get(0);
      return new Result(first.change() + " (median of " + rounds.size() + ")", first.agents(),
          (int) median(rounds, Result::affected), median(rounds, Result::applySeconds),
          median(rounds, Result::deliveredSeconds), (long) median(rounds, Result::affectedBytesTotal),
          (long) median(rounds, Result::affectedBytesMedian),
          rounds.stream().mapToInt(Result::unaffectedWithBytes).max().orElseThrow(),
          rounds.stream().mapToLong(Result::unaffectedBytesMax).max().orElseThrow(),
          median(rounds, Result::hubCpuSeconds));
    }

    private static double median(List<Result> rounds, java.util.function.ToDoubleFunction<Result> field) {
      double[] v = rounds.stream().mapToDouble(field).sorted().toArray();
      return v[v.length / 2];
    }
  }

  private final int agents;
  private final int groups;
  private final int rounds;
  private final Duration timeout;

  public PolicyBench(int agents, int groups, int rounds, Duration timeout) {
    this.agents = agents;
    this.groups = groups;
    this.rounds = rounds;
    this.timeout = timeout;
  }

  public List<Result> run(Path work, Consumer<String> progress) {
    // Bookmarks would reach every agent during a measurement: make them rare.
    try (HubProcess hub = HubProcess.start(work.resolve("hub"), Map.of("bookmark-interval", "1h"), List.of())) {
      MeshCa ca = MeshCa.load(work.resolve("hub").resolve("ca"), InstantSource.system());
      AgentFleet fleet = AgentFleet.create(ca, hub.port(), agents, 2, Backoff.defaults());
      ManagedChannel admin = AgentFleet.adminChannel(ca, hub.port());
      try {
        fleet.announceAll(64, timeout);
        fleet.watchAll();
        if (!fleet.awaitCaughtUp(agents, timeout)) {
          throw new IllegalStateException("only " + fleet.caughtUp() + " of " + agents + " agents caught up");
        }
        var stub = MeshAdminGrpc.newBlockingStub(admin);
        long l0 = System.nanoTime();
        for (int i = 0; i < agents; i++) {
          stub.setClusterLabels(SetClusterLabelsRequest.newBuilder().setClusterId(AgentRecords.clusterId(i))
              .putSet("team", team(i % groups)).build());
        }
        progress.accept(String.format(java.util.Locale.ROOT, "labelled %d agents in %.1f s (full mesh: no agent changed)",
            agents, (System.nanoTime() - l0) / 1e9));
        long p0 = System.nanoTime();
        for (int g = 0; g < groups; g++) {
          stub.applyPolicy(ApplyPolicyRequest.newBuilder().setPolicy(teamPolicy(g, PeeringMode.PEERING_MODE_DIRECT))
              .build());
        }
        progress.accept(String.format(java.util.Locale.ROOT, "applied %d team policies in %.1f s", groups,
            (System.nanoTime() - p0) / 1e9));
        pause(Duration.ofSeconds(3));
        Change relayOnly = () -> applied(stub.applyPolicy(
            ApplyPolicyRequest.newBuilder().setPolicy(teamPolicy(0, PeeringMode.PEERING_MODE_RELAY_ONLY)).build()));
        Change direct = () -> applied(stub.applyPolicy(
            ApplyPolicyRequest.newBuilder().setPolicy(teamPolicy(0, PeeringMode.PEERING_MODE_DIRECT)).build()));
        Change split = () -> applied(stub.applyPolicy(ApplyPolicyRequest
            .newBuilder().setPolicy(PeeringPolicy.newBuilder().setName("split-t0").setMode(PeeringMode.PEERING_MODE_DENY)
                .setClusters(Selector.newBuilder().putMatchLabels("team", team(0)))
                .setPeers(Selector.newBuilder().putMatchLabels("team", team(0)))).build()));
        Change unsplit = () -> {
          var r = stub.deletePolicy(DeletePolicyRequest.newBuilder().setName("split-t0").build());
          return new Applied(r.getRevision(), r.getAffectedAgents());
        };
        List<Result> upserts = new ArrayList<>();
        List<Result> removals = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
          upserts.add(measure(hub, fleet, "t0 policy direct -> relay-only (upserts)", relayOnly));
          progress.accept("round " + round + " " + upserts.getLast().line());
          measure(hub, fleet, "revert", direct);
          removals.add(measure(hub, fleet, "deny inside t0 (removals)", split));
          progress.accept("round " + round + " " + removals.getLast().line());
          measure(hub, fleet, "revert", unsplit);
        }
        return List.of(Result.median(upserts), Result.median(removals));
      } finally {
        admin.shutdownNow();
        fleet.close();
      }
    }
  }

  private interface Change {
    Applied apply();
  }

  /** The hub's answer to a change: its revision and how many agents it sent a change of their peers. */
  private record Applied(long revision, int affectedAgents) {}

  private static Applied applied(ApplyPolicyResponse r) {
    return new Applied(r.getRevision(), r.getAffectedAgents());
  }

  private Result measure(HubProcess hub, AgentFleet fleet, String name, Change change) {
    long[] before = bytes(fleet);
    double cpu0 = ProcStats.cpuSeconds(hub.pid());
    long t0 = System.nanoTime();
    Applied r = change.apply();
    long t1 = System.nanoTime();
    List<SimulatedAgent> affected = new ArrayList<>();
    for (int i = 0; i < agents; i += groups) {
      affected.add(fleet.agent(i));
    }
    long deadline = t0 + timeout.toNanos();
    while (affected.stream().anyMatch(a -> a.resumeRevision() < r.revision()) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    long t2 = System.nanoTime();
    if (t2 >= deadline) {
      throw new IllegalStateException(name + ": not every affected agent received revision " + r.revision());
    }
    // Anything else the change sent would arrive within this pause.
    pause(Duration.ofSeconds(2));
    double cpu1 = ProcStats.cpuSeconds(hub.pid());
    long[] after = bytes(fleet);
    long[] affectedBytes = new long[affected.size()];
    long total = 0;
    int unaffectedWithBytes = 0;
    long unaffectedMax = 0;
    for (int i = 0; i < agents; i++) {
      long d = after[i] - before[i];
      if (i % groups == 0) {
        affectedBytes[i / groups] = d;
        total += d;
      } else if (d > 0) {
        unaffectedWithBytes++;
        unaffectedMax = Math.max(unaffectedMax, d);
      }
    }
    Arrays.sort(affectedBytes);
    if (r.affectedAgents() != affected.size()) {
      log.warn("hub reports affected_agents={} expected={}", r.affectedAgents(), affected.size());
    }
    return new Result(name, agents, r.affectedAgents(), (t1 - t0) / 1e9, (t2 - t0) / 1e9, total,
        affectedBytes[affectedBytes.length / 2], unaffectedWithBytes, unaffectedMax, cpu1 - cpu0);
  }

  private long[] bytes(AgentFleet fleet) {
    long[] out = new long[agents];
    for (int i = 0; i < agents; i++) {
      out[i] = fleet.agent(i).bytesReceived();
    }
    return out;
  }

  private static String team(int g) {
    return "t" + g;
  }

  private static PeeringPolicy teamPolicy(int g, PeeringMode mode) {
    Selector team = Selector.newBuilder().putMatchLabels("team", team(g)).build();
    return PeeringPolicy.newBuilder().setName("team-" + team(g)).setMode(mode).setClusters(team).setPeers(team).build();
  }

  private static void pause(Duration d) {
    try {
      TimeUnit.MILLISECONDS.sleep(d.toMillis()); // a settling pause between phases, not a wait for a condition
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
