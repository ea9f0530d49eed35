package io.meshwire.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.InstantSource;

/** {@code CliRun} is the outcome of one in-process {@code meshwire} invocation. */
record CliRun(int exitCode, String out, String err) {

  static CliRun of(String... args) {
    return of(InstantSource.system(), args);
  }

  static CliRun of(InstantSource clock, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    // The tree main() builds for these arguments (the agent's commands only for `agent ...`).
    int code = Main.commandLine(clock, new PrintWriter(out, true), new PrintWriter(err, true), Main.subcommandsFor(args))
        .execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  @Override
  public String toString() {
    return "exit=" + exitCode + "\nstdout:\n" + out + "stderr:\n" + err;
  }
}
