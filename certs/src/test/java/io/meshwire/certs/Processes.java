package io.meshwire.certs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code Processes} runs external tools (openssl, wg) from tests: stdin written, stdout and stderr
 * to files (a chatty child never blocks on a full pipe), bounded in time. The one copy in
 * the tree; other modules' tests get it from this module's test-jar.
 */
public final class Processes {

  private static final long TIMEOUT_SECONDS = 30;

  /** How a tool ended. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {

    /**
     * This result if the tool exited 0.
     *
     * @throws AssertionError naming the command, its exit code and stderr otherwise
     */
    public Result ok() {
      if (exitCode != 0) {
        throw new AssertionError(command + " exited " + exitCode + ": " + stderr.strip());
      }
      return this;
    }
  }

  private Processes() {}

  /** Skips the calling test (not fails) when {@code tool} is not installed. */
  public static void assumeInstalled(String tool) {
    boolean found = Files.isExecutable(Path.of("/usr/bin", tool)) || Files.isExecutable(Path.of("/usr/local/bin", tool));
    Assumptions.assumeTrue(found, tool + " is not installed");
  }

  /**
   * Runs {@code command} with {@code stdin} (null: none) and returns how it ended. Stdout and
   * stderr go to temporary files, so no pipe can fill and stall the child, and the wait is bounded.
   *
   * @throws AssertionError if it runs longer than 30 s (it is killed)
   */
  public static Result run(String stdin, String... command) throws IOException, InterruptedException {
    Path stdout = Files.createTempFile("meshwire-test-", ".stdout");
    Path stderr = Files.createTempFile("meshwire-test-", ".stderr");
    try {
      Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
      try (var in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timed out after " + TIMEOUT_SECONDS + " s: " + List.of(command));
      }
      return new Result(List.of(command), p.exitValue(), Files.readString(stdout), Files.readString(stderr));
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }
}
