package io.meshwire.cli;

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
 * <what>} on stderr and exit code 1; the stack trace follows only with {@code --verbose}.
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
      default -> e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
    };
    return what.replaceAll("[\\r\\n]+", " ").strip();
  }
}
