package io.meshwire.agent.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class NamespacedCommandRunnerTest {

  /** Records what it was asked to run; the real runner would need a namespace. */
  private static final class Recording implements CommandRunner {
    final List<List<String>> runs = new ArrayList<>();
    byte[] stdin;

    @Override
    public Result run(List<String> argv, byte[] stdin, Duration timeout) {
      runs.add(argv);
      this.stdin = stdin;
      return new Result(0, "", "");
    }

    @Override
    public Process startDetached(List<String> argv, Path output) {
      runs.add(argv);
      return null;
    }
  }

  @Test
  void prefixesEveryCommandWithIpNetnsExec() {
    Recording delegate = new Recording();
    NamespacedCommandRunner runner = new NamespacedCommandRunner(delegate, "mwt1a2b-a-gw");
    runner.run(List.of("wg", "show", "wg0", "dump"), Duration.ofSeconds(1));
    runner.run(List.of("wg", "pubkey"), new byte[] {1, 2}, Duration.ofSeconds(1));
    runner.startDetached(List.of("wireguard-go", "-f", "wg0"), Path.of("wg0.log"));
    assertEquals(
        List.of(
            List.of("ip", "netns", "exec", "mwt1a2b-a-gw", "wg", "show", "wg0", "dump"),
            List.of("ip", "netns", "exec", "mwt1a2b-a-gw", "wg", "pubkey"),
            List.of("ip", "netns", "exec", "mwt1a2b-a-gw", "wireguard-go", "-f", "wg0")),
        delegate.runs);
    assertArrayEquals(new byte[] {1, 2}, delegate.stdin);
  }

  @Test
  void rejectsANamespaceNameThatIsNotAName() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new NamespacedCommandRunner(new Recording(), "a b"));
    assertEquals("network namespace \"a b\": must match [A-Za-z0-9_.-]{1,64}", e.getMessage());
  }
}
