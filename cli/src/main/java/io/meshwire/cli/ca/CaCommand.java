package io.meshwire.cli.ca;

import io.meshwire.cli.Commands;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code CaCommand} is {@code meshwire ca}: the mesh certificate authority, used offline. */
@Command(
    name = "ca",
    description = "Create and use the mesh certificate authority (offline).",
    subcommands = {CaInitCommand.class, CaIssueCommand.class, CaShowCommand.class})
public final class CaCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Override
  public void run() {
    throw Commands.missingSubcommand(spec);
  }
}
