package io.meshwire.agent.exec;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessCommandRunnerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private final ProcessCommandRunner runner = new ProcessCommandRunner();

  @Test
  void returnsStdoutAndStderrOfASuccessfulRun() {
    CommandRunner.Result result =
        runner.run(List.of("sh", "-c", "echo out; echo err >&2"), TIMEOUT);
    assertEquals(new CommandRunner.Result(0, "out\n", "err\n"), result);
  }

  @Test
  void feedsStdinAndClosesIt() {
    CommandRunner.Result result =
        runner.run(List.of("cat"), "secret\n".getBytes(StandardCharsets.UTF_8), TIMEOUT);
    assertEquals("secret\n", result.stdout());
  }

  @Test
  void readsOutputLargerThanAPipeBufferFromBothStreams() {
    CommandRunner.Result result =
        runner.run(
            List.of("sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; head -c 300000 /dev/zero | tr '\\0' b >&2"),
            TIMEOUT);
    assertEquals(300_000, result.stdout().length());
    assertEquals(300_000, result.stderr().length());
  }

  @Test
  void nonZeroExitThrowsNamingArgvExitCodeAndStderr() {
    CommandFailedException e =
        assertThrows(
            CommandFailedException.class,
            () -> runner.run(List.of("sh", "-c", "echo nope >&2; exit 3"), TIMEOUT));
    assertEquals("[sh, -c, echo nope >&2; exit 3] exited 3: nope", e.getMessage());
    assertEquals(3, e.exitCode());
    assertEquals("nope\n", e.stderr());
    assertEquals(List.of("sh", "-c", "echo nope >&2; exit 3"), e.argv());
    assertFalse(e.timedOut());
  }

  @Test
  void killsAProgramThatOutlivesItsTimeout() {
    long started = System.nanoTime();
    CommandFailedException e =
        assertThrows(
            CommandFailedException.class,
            () -> runner.run(List.of("sh", "-c", "echo started; exec sleep 30"), Duration.ofMillis(300)));
    assertTrue(e.timedOut());
    assertEquals(-1, e.exitCode());
    assertTrue(e.getMessage().contains("timed out after PT0.3S"), e.getMessage());
    assertEquals("started\n", e.result().orElseThrow().stdout());
    assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) < 10);
  }

  @Test
  void aMissingProgramIsACommandFailure() {
    CommandFailedException e =
        assertThrows(
            CommandFailedException.class,
            () -> runner.run(List.of("meshwire-no-such-program"), TIMEOUT));
    assertTrue(e.getMessage().startsWith("[meshwire-no-such-program] could not be started"), e.getMessage());
    assertTrue(e.result().isEmpty());
  }

  @Test
  void detachedChildWritesToItsFileRunsInItsOwnSessionAndStopsWhenDestroyed(@TempDir Path dir) throws Exception {
    Path output = dir.resolve("child.log");
    Files.writeString(output, "earlier\n");
    Process child = runner.startDetached(List.of("sh", "-c", "echo ready; echo oops >&2; exec sleep 30"), output);
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(output).contains("oops"));
      assertEquals(List.of("earlier", "ready", "oops"), Files.readAllLines(output), "appended, both streams");
      assertTrue(child.isAlive());
      // /proc/PID/stat field 6 is the session ID: its own, so a signal to our group never reaches it.
      String stat = Files.readString(Path.of("/proc/" + child.pid() + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      assertEquals(String.valueOf(child.pid()), fields[3], "session leader: " + stat);
      assertTrue(child.info().command().orElse("").endsWith("sleep"), "setsid execs in place, same PID");
    } finally {
      child.destroy();
      assertTrue(child.waitFor(10, TimeUnit.SECONDS));
    }
  }
}
