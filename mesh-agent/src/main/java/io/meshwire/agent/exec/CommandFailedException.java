package io.meshwire.agent.exec;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code CommandFailedException} says that an external program run by a {@link CommandRunner} did
 * not succeed: it exited non-zero, could not be started, or was killed after its timeout. The
 * message names the argv, the exit code and the program's stderr, e.g. {@code [wg, show, wg0,
 * dump] exited 1: Unable to access interface: No such device}. Immutable.
 */
public final class CommandFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<String> argv;
  private final transient Optional<CommandRunner.Result> result;
  private final boolean timedOut;

  private CommandFailedException(
      List<String> argv,
      Optional<CommandRunner.Result> result,
      boolean timedOut,
      String message,
      Throwable cause) {
    super(message, cause);
    this.argv = List.copyOf(argv);
    this.result = result;
    this.timedOut = timedOut;
  }

  /** The program ran and exited with a non-zero status. */
  public static CommandFailedException exited(List<String> argv, CommandRunner.Result result) {
    Objects.requireNonNull(result, "result");
    String stderr = result.stderr().strip();
    String message =
        argv + " exited " + result.exitCode() + (stderr.isEmpty() ? "" : ": " + stderr);
    return new CommandFailedException(argv, Optional.of(result), false, message, null);
  }

  /** The program outlived its timeout and was killed; {@code partial} is what it wrote so far. */
  public static CommandFailedException timedOut(
      List<String> argv, Duration timeout, CommandRunner.Result partial) {
    String stderr = partial.stderr().strip();
    String message =
        argv + " timed out after " + timeout + " and was killed"
            + (stderr.isEmpty() ? "" : ": " + stderr);
    return new CommandFailedException(argv, Optional.of(partial), true, message, null);
  }

  /** The program could not be started, or waiting for it was interrupted. */
  public static CommandFailedException notRun(List<String> argv, String why, Throwable cause) {
    return new CommandFailedException(argv, Optional.empty(), false, argv + " " + why, cause);
  }

  /** The command that failed. */
  public List<String> argv() {
    return argv;
  }

  /**
   * What the program produced: present when it ran (exited non-zero or timed out), empty when it
   * never started.
   */
  public Optional<CommandRunner.Result> result() {
    return result == null ? Optional.empty() : result;
  }

  /** The exit code, or -1 when the program did not exit by itself. */
  public int exitCode() {
    return timedOut ? -1 : result().map(CommandRunner.Result::exitCode).orElse(-1);
  }

  /** The program's stderr, empty when it never ran. */
  public String stderr() {
    return result().map(CommandRunner.Result::stderr).orElse("");
  }

  /** Whether the program was killed because it outlived its timeout. */
  public boolean timedOut() {
    return timedOut;
  }
}
