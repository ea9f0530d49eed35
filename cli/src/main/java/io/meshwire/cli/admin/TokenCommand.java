package io.meshwire.cli.admin;

import io.meshwire.cli.Commands;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code TokenCommand} is {@code meshwire token}: one-time join tokens for enrollment. */
@Command(
    name = "token",
    description = "Create, list and revoke one-time join tokens (enrollment).",
    subcommands = {TokenCreateCommand.class, TokenListCommand.class, TokenRevokeCommand.class})
public final class TokenCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Override
  public void run() {
    throw Commands.missingSubcommand(spec);
  }
}
