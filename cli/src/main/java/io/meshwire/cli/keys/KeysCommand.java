package io.meshwire.cli.keys;

import io.meshwire.cli.Commands;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code KeysCommand} is {@code meshwire keys}: key generation that needs no CA. */
@Command(name = "keys", description = "Generate keys (WireGuard).", subcommands = {KeysWgCommand.class})
public final class KeysCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Override
  public void run() {
    throw Commands.missingSubcommand(spec);
  }
}
