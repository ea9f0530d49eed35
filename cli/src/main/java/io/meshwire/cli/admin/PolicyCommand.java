package io.meshwire.cli.admin;

import io.meshwire.cli.Commands;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code PolicyCommand} is {@code meshwire policy}: peering policies on the hub. */
@Command(
    name = "policy",
    description = {
      "Peering policies: which clusters may connect, selected by the labels operators give them.",
      "A pair connects only when policies allow each side towards the other; deny wins; with no policy "
          + "the hub's --default-peering applies (allow: full mesh)."
    },
    subcommands = {PolicyApplyCommand.class, PolicyListCommand.class, PolicyGetCommand.class,
        PolicyDeleteCommand.class, PolicyExplainCommand.class})
public final class PolicyCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Override
  public void run() {
    throw Commands.missingSubcommand(spec);
  }
}
