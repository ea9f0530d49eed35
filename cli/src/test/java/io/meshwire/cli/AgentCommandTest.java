package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code meshwire agent}'s usage errors; the agent itself runs in the e2e tests. */
class AgentCommandTest {

  @Test
  void missingRequiredSettingIsAUsageErrorNamingIt() {
    CliRun run = CliRun.of("agent", "--state-dir", "/nonexistent", "--hub", "127.0.0.1:7443");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("agent config: cluster-id: is required"), run.err());
  }

  /** The agent's own required settings are not asked of its subcommand. */
  @Test
  void rejoinNeedsOnlyItsOwnOptions() {
    CliRun run = CliRun.of("agent", "rejoin", "--state-dir", "/nonexistent");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("Missing required options: '--join-token-file=FILE', '--hub-ca=FILE', '--hub=HOST:PORT'"),
        run.err());
  }
}
