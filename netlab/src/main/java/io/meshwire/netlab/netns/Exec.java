package io.meshwire.netlab.netns;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code Exec} runs the lab's own commands ({@code ip}, and its process helpers). The lab cannot use the agent's
 * {@code CommandRunner} (the agent depends on this module), so this is the minimal copy: argv only,
 * both pipes drained, killed after its timeout. Stateless, thread-safe.
 */
public final class Exec {
  static final Duration TIMEOUT = Duration.ofSeconds(15);

  private Exec() {}

  /** Runs {@code argv} on this host (no namespace): both pipes drained, killed after 15 s. */
  public static ExecResult run(List<String> argv) {
    return run(argv, TIMEOUT);
  }

  static ExecResult run(List<String> argv, Duration timeout) {
    Process process;
    try {
      process = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(
          new File("/dev/null"))).start();
    } catch (IOException e) {
      return new ExecResult(argv, -1, "", "could not be started: " + e.getMessage());
    }
    Drain out = new Drain(process.getInputStream());
    Drain err = new Drain(process.getErrorStream());
    boolean exited;
    try {
      exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exited = false;
    }
    if (!exited) {
      process.destroyForcibly();
    }
    String stderr = err.finish();
    return new ExecResult(argv, exited ? process.exitValue() : -1, out.finish(),
        exited ? stderr : "timed out after " + timeout + " " + stderr);
  }

  private static final class Drain {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final Thread thread;

    Drain(InputStream in) {
      thread = Thread.ofVirtual().start(() -> {
        try (in) {
          in.transferTo(buffer);
        } catch (IOException e) {
          // The process went away; what was read so far is the output.
        }
      });
    }

    String finish() {
      try {
        thread.join(Duration.ofSeconds(2));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return thread.isAlive() ? "" : buffer.toString(StandardCharsets.UTF_8);
    }
  }
}
