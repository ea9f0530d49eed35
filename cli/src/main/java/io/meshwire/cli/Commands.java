package io.meshwire.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** {@code Commands} holds small helpers every command uses. */
public final class Commands {

  private Commands() {}

  /** The usage error for a command group invoked without a subcommand (exit code 2). */
  public static CommandLine.ParameterException missingSubcommand(CommandSpec spec) {
    return new CommandLine.ParameterException(
        spec.commandLine(), "Missing command: choose one of " + String.join(", ", spec.subcommands().keySet()));
  }

  /** The usage error for a bad option value (exit code 2), e.g. {@code --name: name "A": ...}. */
  public static CommandLine.ParameterException badValue(CommandSpec spec, String option, String message) {
    return new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + message);
  }

  /** Standard output of the command line {@code spec} belongs to. */
  public static PrintWriter out(CommandSpec spec) {
    return spec.commandLine().getOut();
  }
}
