package io.meshwire.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * {@code ErrorHandler} turns an exception thrown by a command into one line {@code meshwire:
 * <what>} on stderr and exit code 1; the stack trace follows only with {@code --verbose}. A gRPC
 * error reads {@code meshwire: <STATUS_CODE>: <description>} ({@link ErrorText}).
 */
final class ErrorHandler implements IExecutionExceptionHandler {

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    err.println("meshwire: " + ErrorText.describe(ex));
    if (Main.of(cmd.getCommandSpec()).verbose()) {
      ex.printStackTrace(err);
    }
    err.flush();
    return 1;
  }
}
