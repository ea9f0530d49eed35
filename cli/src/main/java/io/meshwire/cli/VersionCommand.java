package io.meshwire.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code VersionCommand} is {@code meshwire version}: prints meshwire's and the JVM's version. */
@Command(name = "version", description = "Print the meshwire version.")
public final class VersionCommand implements Runnable {

  @Spec private CommandSpec spec;

  @Override
  public void run() {
    for (String line : new VersionProvider().getVersion()) {
      Commands.out(spec).println(line);
    }
  }
}
