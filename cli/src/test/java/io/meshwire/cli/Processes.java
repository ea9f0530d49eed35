package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** {@code Processes} runs openssl and wg from tests; a test is skipped when the tool is absent. */
final class Processes {

  record Result(int exitCode, String stdout, String stderr) {}

  private Processes() {}

  static void assumeInstalled(String tool) {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin", tool)), tool + " is not installed");
  }

  static Result run(String stdin, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + List.of(command));
    return new Result(p.exitValue(), out, err);
  }
}
