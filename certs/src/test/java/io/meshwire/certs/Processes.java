package io.meshwire.certs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code Processes} runs external tools (openssl, wg) from tests: stdin written, stdout and stderr
 * read concurrently (a chatty child never blocks on a full pipe), bounded in time. The one copy in
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
   * Runs {@code command} with {@code stdin} (null: none) and returns how it ended.
   *
   * @throws AssertionError if it runs longer than 30 s (it is killed)
   */
  public static Result run(String stdin, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).start();
    Drain out = new Drain(p.getInputStream());
    Drain err = new Drain(p.getErrorStream());
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out after " + TIMEOUT_SECONDS + " s: " + List.of(command));
    }
    return new Result(List.of(command), p.exitValue(), out.text(), err.text());
  }

  /** Reads one pipe to its end on a virtual thread. */
  private static final class Drain {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final Thread thread;

    Drain(InputStream in) {
      thread = Thread.ofVirtual().start(() -> {
        try (in) {
          in.transferTo(buffer);
        } catch (IOException e) {
          // the process went away: what was read is the output
        }
      });
    }

    String text() throws InterruptedException {
      thread.join();
      return buffer.toString(StandardCharsets.UTF_8);
    }
  }
}
