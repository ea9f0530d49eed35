package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

  @TempDir Path dir;

  /** Every command path in the tree, e.g. [], [ca], [ca, init], [keys, wg], [version]. */
  private static List<List<String>> commandPaths(CommandLine cl, List<String> prefix) {
    List<List<String>> paths = new ArrayList<>();
    paths.add(prefix);
    cl.getSubcommands().forEach((name, sub) -> {
      List<String> path = new ArrayList<>(prefix);
      path.add(name);
      paths.addAll(commandPaths(sub, path));
    });
    return paths;
  }

  @Test
  void helpWorksOnEveryCommand() {
    List<List<String>> paths = commandPaths(Main.commandLine(InstantSource.system()), List.of());
    assertTrue(paths.size() >= 7, paths.toString());
    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      CliRun run = CliRun.of(args.toArray(String[]::new));
      assertEquals(0, run.exitCode(), args + "\n" + run);
      assertTrue(run.out().startsWith("Usage: meshwire"), run.toString());
    }
  }

  /** The long-running {@code meshwire agent} gets the agent's commands only, and they read as in the whole tree. */
  @Test
  void agentRunsWithItsOwnCommandsOnly() {
    CommandLine agentTree = Main.commandLine(InstantSource.system(), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()), Main.subcommandsFor(new String[] {"agent", "--cluster-id", "a"}));
    assertEquals(List.of(List.of(), List.of("agent"), List.of("agent", "rejoin")), commandPaths(agentTree, List.of()));
    assertEquals(Main.SUBCOMMANDS, Main.subcommandsFor(new String[] {"agent-status"}));
    assertEachReadsAsInTheWholeTree(new String[] {"agent", "--help"}, new String[] {"agent", "rejoin", "--help"},
        new String[] {"agent", "--version"});
    CliRun verbose = CliRun.of("agent", "--verbose", "--cluster-id", "a");
    assertEquals(2, verbose.exitCode(), verbose.toString());
    assertTrue(verbose.err().contains("state-dir"), verbose.toString());
  }

  /** {@code meshwire hub} (restart to serving) gets the hub's commands only, and they read as in the whole tree. */
  @Test
  void hubRunsWithItsOwnCommandsOnly() {
    CommandLine hubTree = Main.commandLine(InstantSource.system(), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()), Main.subcommandsFor(new String[] {"hub", "--data-dir", "/tmp/x"}));
    assertEquals(List.of(List.of(), List.of("hub"), List.of("hub", "repair")), commandPaths(hubTree, List.of()));
    assertEquals(Main.SUBCOMMANDS, Main.subcommandsFor(new String[] {"hubs"}));
    assertEachReadsAsInTheWholeTree(new String[] {"hub", "--help"}, new String[] {"hub", "repair", "--help"},
        new String[] {"hub", "--version"});
  }

  /** Each command line prints, through main's own (smaller) tree, exactly what the whole tree prints. */
  private static void assertEachReadsAsInTheWholeTree(String[]... commandLines) {
    for (String[] args : commandLines) {
      StringWriter whole = new StringWriter();
      Main.commandLine(InstantSource.system(), new PrintWriter(whole, true), new PrintWriter(new StringWriter()))
          .execute(args);
      CliRun own = CliRun.of(args);
      assertEquals(0, own.exitCode(), own.toString());
      assertEquals(whole.toString(), own.out(), String.join(" ", args));
    }
  }

  @Test
  void commandGroupWithoutSubcommandIsAUsageError() {
    CliRun run = CliRun.of("ca");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("Missing command: choose one of init, issue, show"), run.toString());
    assertEquals(2, CliRun.of().exitCode());
  }

  @Test
  void unknownOptionIsAUsageError() {
    CliRun run = CliRun.of("ca", "init", "--mesh", "demo", "--dir", dir.toString(), "--colour");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().contains("Unknown option: '--colour'"), run.toString());
  }

  @Test
  void unknownCommandFailsWithOrWithoutHelp() {
    for (String[] args : List.of(new String[] {"nosuchcommand"}, new String[] {"nosuchcommand", "--help"},
        new String[] {"--help", "nosuchcommand"}, new String[] {"ca", "nosuchcommand", "--help"})) {
      CliRun run = CliRun.of(args);
      assertEquals(2, run.exitCode(), List.of(args) + "\n" + run);
      assertEquals("", run.out(), List.of(args) + "\n" + run);
      assertTrue(run.err().startsWith("Unknown command: 'nosuchcommand'. 'meshwire" + (args[0].equals("ca") ? " ca" : "")
          + " --help' lists the commands."), run.toString());
    }
    CliRun typo = CliRun.of("clusterz");
    assertTrue(typo.err().contains("Did you mean: meshwire clusters"), typo.toString());
  }

  @Test
  void unknownArgumentOfACommandFailsEvenWithHelp() {
    CliRun run = CliRun.of("version", "extra", "--help");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("Unmatched argument at index 1: 'extra'"), run.toString());
  }

  /** {@code meshwire --help} lists each command with its summary: a whole sentence, not a cut-off line. */
  @Test
  void everyCommandSummaryInTheRootHelpIsWhole() {
    CliRun run = CliRun.of("--help");
    List<String> entries = new ArrayList<>();
    boolean inCommands = false;
    for (String line : run.out().lines().toList()) {
      if (line.equals("Commands:")) {
        inCommands = true;
      } else if (inCommands && line.matches("  \\S.*")) {
        entries.add(line.strip());
      } else if (inCommands && line.startsWith("   ")) {
        entries.set(entries.size() - 1, entries.getLast() + " " + line.strip());
      }
    }
    assertTrue(entries.size() >= 10, run.out());
    for (String entry : entries) {
      assertTrue(entry.endsWith("."), "summary is cut off: " + entry);
    }
  }

  @Test
  void versionPrintsTheProjectVersion() {
    CliRun run = CliRun.of("version");
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(run.out().matches("(?s)meshwire \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\njava .*"), run.out());
    assertEquals(run.out(), CliRun.of("--version").out());
  }

  @Test
  void runtimeErrorIsOneLineWithoutStackTraceUnlessVerbose() {
    CliRun run = CliRun.of("ca", "show", "--dir", dir.resolve("nope").toString());
    assertEquals(1, run.exitCode(), run.toString());
    assertEquals("meshwire: " + dir.resolve("nope/ca.crt") + ": no such file\n", run.err());

    CliRun verbose = CliRun.of("ca", "show", "--dir", dir.resolve("nope").toString(), "--verbose");
    assertEquals(1, verbose.exitCode());
    assertTrue(verbose.err().startsWith("meshwire: " + dir.resolve("nope/ca.crt") + ": no such file\n"), verbose.toString());
    assertTrue(verbose.err().contains("\tat io.meshwire."), verbose.toString());
    assertFalse(run.err().contains("\tat "));
  }
}
