package io.meshwire.loadtests;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code BenchCommand} is {@code meshwire bench}: load tests and benchmarks of meshwire's parts.
 * Subcommands: {@code hub} ({@link HubBenchCommand}), {@code relay} (the relay's data path) and {@code policy}
 * (one peering-policy change). It declares no help options
 * of its own so that it inherits the root's when registered under {@code meshwire};
 * {@link BenchMain} adds them when it runs standalone.
 */
@Command(
    name = "bench",
    description = "Load tests and benchmarks (see load-tests/README.md).",
    subcommands = {HubBenchCommand.class, io.meshwire.loadtests.relay.RelayBenchCommand.class,
        io.meshwire.loadtests.footprint.AgentBenchCommand.class,
        io.meshwire.loadtests.policy.PolicyBenchCommand.class,
        io.meshwire.loadtests.relay.PathBenchCommand.class})
public final class BenchCommand implements Runnable {

  @Spec private CommandSpec spec;

  /** {@code bench} alone is a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "Missing command: choose one of " + String.join(", ", spec.subcommands().keySet()));
  }
}
