package io.meshwire.cli.admin;

import io.meshwire.cli.Commands;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code ClustersCommand} is {@code meshwire clusters}: the records clusters announced to the hub. */
@Command(
    name = "clusters",
    description = "List, show, label and remove clusters on the hub.",
    subcommands = {ClustersListCommand.class, ClustersGetCommand.class, ClustersLabelCommand.class,
        ClustersRemoveCommand.class})
public final class ClustersCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Override
  public void run() {
    throw Commands.missingSubcommand(spec);
  }
}
