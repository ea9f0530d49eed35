package io.meshwire.agent.exec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * {@code CommandRunner} runs external programs ({@code wg}, {@code ip}, {@code wireguard-go}) for the
 * data-plane drivers, so that the drivers themselves never touch {@link ProcessBuilder} and can be
 * pointed at another network namespace with {@link NamespacedCommandRunner}.
 *
 * <p>Contract: {@code argv[0]} is looked up on {@code PATH}; no shell is involved, so arguments are
 * never re-split or expanded. {@link #run} blocks the calling thread until the program exits or the
 * timeout passes, so callers keep it off event loops (use a virtual thread or an executor). A run
 * that exits non-zero, cannot start or times out throws {@link CommandFailedException}, which names
 * the argv, the exit code and stderr. Secrets go through {@code stdin}, never through {@code argv}:
 * argv appears in logs and exception messages and in {@code /proc/PID/cmdline}.
 *
 * <p>Implementations are thread-safe: concurrent calls run concurrent processes.
 */
public interface CommandRunner {

  /**
   * {@code Result} is what a finished program produced.
   *
   * @param exitCode the exit status (0 on success)
   * @param stdout everything the program wrote to stdout, decoded as UTF-8
   * @param stderr everything the program wrote to stderr, decoded as UTF-8
   */
  record Result(int exitCode, String stdout, String stderr) {
    public Result {
      Objects.requireNonNull(stdout, "stdout");
      Objects.requireNonNull(stderr, "stderr");
    }

    /** Whether the program exited with status 0. */
    public boolean succeeded() {
      return exitCode == 0;
    }
  }

  /**
   * Runs {@code argv} with an empty stdin and waits for it to exit.
   *
   * @throws CommandFailedException if it exits non-zero, cannot be started, or outlives
   *     {@code timeout} (it is then killed)
   */
  default Result run(List<String> argv, Duration timeout) {
    return run(argv, new byte[0], timeout);
  }

  /**
   * Runs {@code argv}, writes {@code stdin} to it, closes its stdin and waits for it to exit.
   *
   * @throws CommandFailedException if it exits non-zero, cannot be started, or outlives
   *     {@code timeout} (it is then killed)
   */
  Result run(List<String> argv, byte[] stdin, Duration timeout);

  /**
   * Starts a long-running program such as {@code wireguard-go -f wg0} that must outlive this
   * process, and returns at once. It runs in a session of its own ({@code setsid}: no signal sent
   * to this process's group or terminal reaches it), its stdin is {@code /dev/null}, and its
   * stdout and stderr are appended to {@code output}. It never holds a pipe to this process: a
   * program writing to a pipe whose reader died is killed by SIGPIPE at its next line. The caller
   * owns the returned process and stops it when it means to ({@link Process#destroy()}).
   *
   * @throws CommandFailedException if the program cannot be started or {@code output} cannot be opened
   */
  Process startDetached(List<String> argv, Path output);
}
