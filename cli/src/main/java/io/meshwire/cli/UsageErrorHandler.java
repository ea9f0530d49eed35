package io.meshwire.cli;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code UsageErrorHandler} reports usage errors (exit code 2). A word that names no command of a
 * command group reads {@code Unknown command: 'x'} with the close matches and where the list of
 * commands is, instead of picocli's "Unmatched argument at index 0"; every other usage error is
 * picocli's message and usage.
 */
final class UsageErrorHandler implements IParameterExceptionHandler {

  private final IParameterExceptionHandler picocli;

  UsageErrorHandler(IParameterExceptionHandler picocli) {
    this.picocli = picocli;
  }

  @Override
  public int handleParseException(ParameterException ex, String[] args) throws Exception {
    CommandLine cmd = ex.getCommandLine();
    if (!(ex instanceof UnmatchedArgumentException unmatched) || cmd.getSubcommands().isEmpty()) {
      return picocli.handleParseException(ex, args);
    }
    List<String> words = unmatched.getUnmatched();
    if (words.isEmpty() || words.get(0).startsWith("-")) {
      return picocli.handleParseException(ex, args);
    }
    PrintWriter err = cmd.getErr();
    String name = cmd.getCommandSpec().qualifiedName();
    err.println("Unknown command: '" + words.get(0) + "'. '" + name + " --help' lists the commands.");
    UnmatchedArgumentException.printSuggestions(unmatched, err);
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }
}
