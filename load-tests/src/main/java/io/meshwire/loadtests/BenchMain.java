package io.meshwire.loadtests;

import picocli.CommandLine;

/**
 * {@code BenchMain} runs {@link BenchCommand} standalone:
 * {@code java -cp <load-tests jar and dependencies> io.meshwire.loadtests.BenchMain hub --agents 1000 --quick --json FILE}.
 * Exit codes: 0 ok, 1 error, 2 usage error, 3 a regression threshold was exceeded.
 */
public final class BenchMain {

  private BenchMain() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int run(String... args) {
    // Quiet logs for the bench and (through the same property) its hub child, unless set already.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "meshwire-bench-logback.xml");
    }
    CommandLine cl = new CommandLine(new BenchCommand());
    cl.getCommandSpec().mixinStandardHelpOptions(true);
    cl.getSubcommands().values().forEach(sub -> sub.getCommandSpec().mixinStandardHelpOptions(true));
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      line.getErr().println("bench: " + e.getMessage());
      if (Boolean.getBoolean("bench.verbose")) {
        e.printStackTrace(line.getErr());
      }
      return 1;
    });
    return cl.execute(args);
  }
}
