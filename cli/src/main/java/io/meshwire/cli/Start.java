package io.meshwire.cli;

import io.meshwire.agent.AgentMain;
import io.meshwire.agent.config.AgentConfig;
import io.meshwire.cli.agent.AgentArgs;
import java.util.Optional;

/**
 * {@code Start} is the jar's {@code Main-Class}: {@code meshwire agent} with plain options runs the
 * agent straight away ({@link AgentArgs}); every other command line goes to {@link Main}, the
 * picocli command tree. Only a call into {@code Main} loads picocli (verifying {@code Main} loads
 * {@code CommandLine}), so this class and what it calls on the agent's path must not use it.
 */
public final class Start {

  private Start() {}

  public static void main(String[] args) {
    Optional<AgentConfig> agent = AgentArgs.config(args);
    if (agent.isEmpty()) {
      Main.main(args);
      return;
    }
    System.exit(runAgent(agent.get()));
  }

  /**
   * Runs the agent until it is stopped; a start that fails reads as on the picocli path ({@link
   * ErrorHandler}): one line {@code meshwire: <what>}, exit code 1.
   */
  private static int runAgent(AgentConfig config) {
    try {
      AgentMain.run(config);
      return 0;
    } catch (Exception e) {
      System.err.println("meshwire: " + ErrorText.describe(e));
      return 1;
    }
  }
}
