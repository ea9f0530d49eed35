package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** {@code Processes} runs external tools (openssl, wg) from tests. */
final class Processes {

  record Result(int exitCode, String stdout, String stderr) {}

  private Processes() {}

  /** Skips the calling test (not fails) when {@code tool} is not installed. */
  static void assumeInstalled(String tool) {
    boolean found = Files.isExecutable(Path.of("/usr/bin", tool)) || Files.isExecutable(Path.of("/usr/local/bin", tool));
    Assumptions.assumeTrue(found, tool + " is not installed");
  }

  static Result run(String stdin, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    // Outputs are small; read them fully, then wait (bounded) for the exit code.
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + List.of(command));
    return new Result(p.exitValue(), out, err);
  }
}
