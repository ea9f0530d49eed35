package io.meshwire.cli;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * {@code ErrorHandler} turns an exception thrown by a command into one line {@code meshwire:
 * <what>} on stderr and exit code 1; the stack trace follows only with {@code --verbose}. A gRPC
 * error reads {@code meshwire: <STATUS_CODE>: <description>}.
 */
final class ErrorHandler implements IExecutionExceptionHandler {

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    err.println("meshwire: " + describe(ex));
    if (Main.of(cmd.getCommandSpec()).verbose()) {
      ex.printStackTrace(err);
    }
    err.flush();
    return 1;
  }

  /** A one-line description of {@code ex}: its message, with the file for file-system errors. */
  static String describe(Throwable ex) {
    Throwable e = ex instanceof java.io.UncheckedIOException u ? u.getCause() : ex;
    String what = switch (e) {
      case NoSuchFileException f -> f.getFile() + ": no such file or directory";
      case AccessDeniedException f -> f.getFile() + ": permission denied";
      case FileAlreadyExistsException f -> f.getFile() + ": already exists";
      case FileSystemException f -> f.getFile() + ": " + (f.getReason() == null ? f.getClass().getSimpleName() : f.getReason());
      case StatusRuntimeException s -> grpc(s.getStatus());
      case StatusException s -> grpc(s.getStatus());
      default -> e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
    };
    return what.replaceAll("[\\r\\n]+", " ").strip();
  }

  /**
   * {@code NOT_FOUND: cluster_id: "x" has no record}. Errors raised on this side (the hub is
   * unreachable, its certificate is refused) add their cause: {@code UNAVAILABLE: io exception
   * (Connection refused: ...)}.
   */
  private static String grpc(Status status) {
    String description = status.getDescription() == null ? "" : status.getDescription().strip();
    Throwable cause = status.getCause();
    String because = cause == null || cause.getMessage() == null ? "" : cause.getMessage().strip();
    if (description.isEmpty()) {
      description = because;
    } else if (!because.isEmpty() && !description.contains(because)) {
      description += " (" + because + ")";
    }
    return description.isEmpty() ? status.getCode().name() : status.getCode() + ": " + description;
  }
}
