package io.meshwire.cli;

/** {@code CliRunAccess} lets tests in subpackages run commands and tools with the helpers of this package. */
public final class CliRunAccess {

  /** Outcome of an in-process run or of an external process. */
  public record Outcome(int exitCode, String out, String err) {
    public String stdout() {
      return out;
    }

    public String stderr() {
      return err;
    }
  }

  private CliRunAccess() {}

  public static Outcome run(String... args) {
    CliRun r = CliRun.of(args);
    return new Outcome(r.exitCode(), r.out(), r.err());
  }

  public static Outcome exec(String... command) throws Exception {
    Processes.Result r = Processes.run(null, command);
    return new Outcome(r.exitCode(), r.stdout(), r.stderr());
  }

  public static Outcome exec(String stdin, String[] command) throws Exception {
    Processes.Result r = Processes.run(stdin, command);
    return new Outcome(r.exitCode(), r.stdout(), r.stderr());
  }

  public static void assumeInstalled(String tool) {
    Processes.assumeInstalled(tool);
  }
}
