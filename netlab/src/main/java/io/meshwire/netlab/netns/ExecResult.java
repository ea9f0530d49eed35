package io.meshwire.netlab.netns;

import java.util.List;

/**
 * {@code ExecResult} is what a command run by the fixture produced. Immutable.
 *
 * @param argv the command
 * @param exitCode its exit status; -1 if it could not start or was killed after its timeout
 * @param stdout its stdout
 * @param stderr its stderr (or why it did not run)
 */
public record ExecResult(List<String> argv, int exitCode, String stdout, String stderr) {
  public ExecResult {
    argv = List.copyOf(argv);
  }

  /** Whether the command exited 0. */
  public boolean ok() {
    return exitCode == 0;
  }

  /**
   * Returns this if the command succeeded.
   *
   * @throws IllegalStateException naming argv, exit code and stderr otherwise
   */
  public ExecResult orThrow() {
    if (!ok()) {
      throw new IllegalStateException(argv + " exited " + exitCode + ": " + stderr.strip());
    }
    return this;
  }
}
