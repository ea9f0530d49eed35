package io.meshwire.loadtests.jmh;

import io.meshwire.hub.log.MembershipLog;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.hub.policy.PeeringPolicy;
import io.meshwire.hub.policy.Selector;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.loadtests.agent.AgentRecords;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The membership log's own work for one peering-policy change ({@code MembershipLog.changePeering}
 * until durable, over a store that acknowledges at once): {@code clusters} members labelled
 * {@code team=t0..t9}, each team peering only with itself; each invocation flips team t0's policy
 * between direct and relay-only, so the 10% of the members in t0 each get their team's records
 * again, as in {@code bench policy}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PolicyChangeBenchmark {

  private static final int TEAMS = 10;

  @Param({"1000"})
  public int clusters;

  private ExecutorService notify;
  private MembershipLog log;
  private boolean relayOnly;

  @Setup(Level.Trial)
  public void setUp() throws Rejection {
    notify = Executors.newSingleThreadExecutor();
    // A short ring: each change keeps 100 entries of about 16 KB.
    log = new MembershipLog(new InMemoryStore(), new ProtoEventCodec(), InstantSource.system(),
        new MembershipLog.Options(64, 100_000), notify, Runnable::run);
    for (int i = 0; i < clusters; i++) {
      log.changePeering(new PeeringChange.SetLabels(AgentRecords.clusterId(i), Map.of("team", team(i % TEAMS))), true);
      log.upsert(Fixtures.record(i, 1)).join();
    }
    for (int g = 0; g < TEAMS; g++) {
      log.changePeering(new PeeringChange.ApplyPolicy(teamPolicy(g, PeeringMode.DIRECT)), true).join();
    }
  }

  @Benchmark
  public int flipOneTeamsMode() throws Rejection {
    relayOnly = !relayOnly;
    return log.changePeering(new PeeringChange.ApplyPolicy(teamPolicy(0,
        relayOnly ? PeeringMode.RELAY_ONLY : PeeringMode.DIRECT)), true).join().affectedAgents();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    log.close();
    notify.shutdownNow();
  }

  private static String team(int g) {
    return "t" + g;
  }

  private static PeeringPolicy teamPolicy(int g, PeeringMode mode) {
    Selector team = new Selector(Set.of(), Map.of("team", team(g)), List.of());
    return new PeeringPolicy("team-" + team(g), team, team, mode);
  }
}
