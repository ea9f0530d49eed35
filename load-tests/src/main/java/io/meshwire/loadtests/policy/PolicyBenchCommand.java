package io.meshwire.loadtests.policy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code PolicyBenchCommand} is {@code bench policy}: the cost of one peering-policy change (see {@link PolicyBench}). */
@Command(name = "policy", description = "Bytes and time of one peering-policy change that affects 1/G of N agents.")
public final class PolicyBenchCommand implements Callable<Integer> {

  @Option(names = "--agents", paramLabel = "N", defaultValue = "1000", description = "Simulated agents (default: ${DEFAULT-VALUE}).")
  private int agents;

  @Option(names = "--groups", paramLabel = "G", defaultValue = "10",
      description = "Teams; the change touches one (default: ${DEFAULT-VALUE}, i.e. 10% of the agents).")
  private int groups;

  @Option(names = "--rounds", paramLabel = "R", defaultValue = "5",
      description = "Times each change is measured (and reverted); medians are reported (default: ${DEFAULT-VALUE}).")
  private int rounds;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300", description = "Bound of each phase.")
  private int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    if (agents < groups || groups < 2 || rounds < 1) {
      throw new IllegalArgumentException("--agents must be >= --groups >= 2, --rounds >= 1");
    }
    Path work = Files.createTempDirectory("meshwire-policy-bench-");
    for (PolicyBench.Result r : new PolicyBench(agents, groups, rounds, Duration.ofSeconds(timeoutSeconds))
        .run(work, System.out::println)) {
      System.out.println("RESULT " + r.line());
    }
    return 0;
  }
}
