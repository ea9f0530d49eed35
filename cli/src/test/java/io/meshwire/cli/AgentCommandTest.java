package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshwire agent}'s usage errors; the agent itself runs in the e2e tests. */
class AgentCommandTest {

  @TempDir Path stateDir;

  /**
   * A running agent never loads picocli ({@code AgentArgs}): no class data sharing archive can hold
   * its Java 5 classes. A start that fails (here: no join token, before any data plane work) still
   * reads as on the picocli path: one line, exit code 1.
   */
  @Test
  void agentStartsWithoutLoadingTheCommandLineLibrary() throws Exception {
    JavaProcess.Result r = JavaProcess.run(List.of("--enable-native-access=ALL-UNNAMED", "-Xlog:class+load=info",
            "-cp", System.getProperty("java.class.path"), Start.class.getName()),
        "agent", "--cluster-id", "east", "--state-dir", stateDir.toString(), "--hub", "127.0.0.1:7443",
        "--endpoint", "10.0.0.1:51820", "--pod-cidrs", "10.244.0.0/16", "--metrics-listen", "off");
    assertEquals(1, r.exitCode(), r.stderr());
    assertTrue(r.stderr().startsWith("meshwire: join-token: required while"), r.stderr());
    assertTrue(r.stdout().contains(" io.meshwire.agent.AgentMain "), "the class-load log is on stdout");
    assertEquals(List.of(), r.stdout().lines().filter(l -> l.contains(" picocli.")).limit(3).toList());
  }

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
