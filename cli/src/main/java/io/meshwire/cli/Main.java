package io.meshwire.cli;

import io.meshwire.cli.admin.AuditCommand;
import io.meshwire.cli.admin.ClustersCommand;
import io.meshwire.cli.admin.RevokeCommand;
import io.meshwire.cli.admin.StatusCommand;
import io.meshwire.cli.admin.PolicyCommand;
import io.meshwire.cli.admin.TokenCommand;
import io.meshwire.cli.agent.AgentCommand;
import io.meshwire.cli.ca.CaCommand;
import io.meshwire.cli.hub.HubCommand;
import io.meshwire.cli.keys.KeysCommand;
import java.io.PrintWriter;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code Main} is the {@code meshwire} command: the root of the picocli command tree, holding what
 * every subcommand shares (the clock, {@code --verbose}). A new command is a class plus one entry
 * in {@link #SUBCOMMANDS}.
 *
 * <p>Exit codes: 0 success, 1 runtime error (one line {@code meshwire: <what>} on stderr, the
 * stack trace only with {@code --verbose}), 2 usage error (picocli's message and usage).
 */
@Command(
    name = "meshwire",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    scope = ScopeType.INHERIT, // --help and --version on every subcommand
    description = "Links Kubernetes clusters into a WireGuard mesh.",
    footer = {"", "Benchmarks are not part of this jar: ./meshwire bench (in a source checkout) runs them."})
public final class Main implements Runnable {

  /**
   * The subcommands, in the order {@code meshwire --help} lists them. Added in code, not in the
   * {@code @Command} annotation, so that {@code meshwire agent} builds only its own part of the
   * tree: picocli models every command it is given (84 of them), and the long-running agent kept that
   * model and the heap its garbage grew (1.7 MiB of RSS; load-tests/README.md, "Agent footprint").
   */
  static final List<Class<?>> SUBCOMMANDS = List.of(
      HubCommand.class,
      io.meshwire.cli.relay.RelayCommand.class,
      AgentCommand.class,
      io.meshwire.cli.agent.AgentStatusCommand.class,
      io.meshwire.cli.demo.DemoCommand.class,
      ClustersCommand.class,
      RevokeCommand.class,
      TokenCommand.class,
      PolicyCommand.class,
      StatusCommand.class,
      AuditCommand.class,
      io.meshwire.cli.admin.ConsoleCommand.class,
      CaCommand.class,
      KeysCommand.class,
      VersionCommand.class);

  @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
  private boolean verbose;

  @Spec private CommandSpec spec;

  private final InstantSource clock;

  /** Creates the root command; {@code clock} is what subcommands use for "now". */
  public Main(InstantSource clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Runs {@code meshwire} with {@code args} and exits with its exit code, after flushing what the
   * command wrote: {@code System.exit} does not flush a {@link PrintWriter}, and a command that
   * ends its output without a line break (or prints with {@code print}) would otherwise print
   * nothing.
   */
  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int exitCode = commandLine(InstantSource.system(), out, err, subcommandsFor(args)).execute(args);
    out.flush();
    err.flush();
    System.exit(exitCode);
  }

  /** Returns the configured command line writing to the process's stdout and stderr. */
  public static CommandLine commandLine(InstantSource clock) {
    return commandLine(clock, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
  }

  /** Returns the configured command line writing to {@code out} and {@code err} (tests capture them). */
  public static CommandLine commandLine(InstantSource clock, PrintWriter out, PrintWriter err) {
    return commandLine(clock, out, err, SUBCOMMANDS);
  }

  /**
   * {@code meshwire agent ...} (a process that runs for months) gets the agent's commands only, and
   * {@code meshwire hub ...} the hub's (restart to serving: modelling the whole tree took about a
   * third of the JVM's time before the hub's own start, load-tests/README.md); the rest all.
   */
  static List<Class<?>> subcommandsFor(String[] args) {
    if (args.length == 0) {
      return SUBCOMMANDS;
    }
    return switch (args[0]) {
      case "agent" -> List.of(AgentCommand.class);
      case "hub" -> List.of(HubCommand.class);
      default -> SUBCOMMANDS;
    };
  }

  static CommandLine commandLine(InstantSource clock, PrintWriter out, PrintWriter err,
      List<Class<?>> subcommands) {
    CommandLine cl = new CommandLine(new Main(clock));
    subcommands.forEach(cl::addSubcommand);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(new ErrorHandler());
    cl.setParameterExceptionHandler(new UsageErrorHandler(cl.getParameterExceptionHandler()));
    cl.setExecutionStrategy(Main::executeMatched);
    cl.setOut(out); // after construction, so every subcommand gets the same writers
    cl.setErr(err);
    return cl;
  }

  /**
   * Runs the command unless an argument matched nothing. picocli skips that check when
   * {@code --help} is given, so {@code meshwire nosuchcommand --help} would print the root help
   * and exit 0: a script could not tell a missing command from a present one.
   */
  private static int executeMatched(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (!p.unmatched().isEmpty()) {
        throw new CommandLine.UnmatchedArgumentException(p.commandSpec().commandLine(), p.unmatched());
      }
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** Returns the root command of the tree {@code spec} belongs to. */
  public static Main of(CommandSpec spec) {
    return (Main) spec.root().userObject();
  }

  /** Returns the clock subcommands use. */
  public InstantSource clock() {
    return clock;
  }

  /** Returns whether {@code --verbose} was given anywhere on the command line. */
  public boolean verbose() {
    return verbose;
  }

  /** {@code meshwire} alone is a usage error. */
  @Override
  public void run() {
    throw Commands.missingSubcommand(spec);
  }
}
