package io.meshwire.cli;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * {@code ErrorText} words an exception as the one line {@code meshwire: <what>} that a failed
 * command prints: {@link ErrorHandler} on the picocli path, {@link Start} for an agent started
 * without picocli (so this class must not use picocli). Stateless.
 */
final class ErrorText {

  /**
   * The native epoll transport's prefix of a failed system call ("finishConnect(..) failed with
   * error(-111): "): the operator needs the reason after it, not the call.
   */
  private static final java.util.regex.Pattern NATIVE_CALL =
      java.util.regex.Pattern.compile("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ");

  private ErrorText() {}

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
   * unreachable, its certificate is refused) name their root cause and what to check: {@code
   * UNAVAILABLE: Connection refused: /127.0.0.1:7443; is the hub running ...}.
   */
  private static String grpc(Status status) {
    String description = status.getDescription() == null ? "" : status.getDescription().strip();
    if (description.startsWith("io exception")) {
      description = ""; // gRPC's wrapper of a transport error: the cause says what happened
    }
    String because = rootMessage(status.getCause());
    if (description.isEmpty()) {
      description = because;
    } else if (!because.isEmpty() && !description.contains(because)) {
      description += " (" + because + ")";
    }
    String what = description.isEmpty() ? status.getCode().name() : status.getCode() + ": " + description;
    String hint = hint(status);
    return hint.isEmpty() ? what : what + "; " + hint;
  }

  /** What to check for a call that failed with {@code status}; empty when the hub's own answer says it. */
  static String hint(Status status) {
    Throwable cause = status.getCause();
    return switch (status.getCode()) {
      case UNAVAILABLE -> {
        if (has(cause, javax.net.ssl.SSLException.class) || has(cause, java.security.cert.CertificateException.class)) {
          yield "the hub's certificate does not chain to ca.crt of these credentials: use the credential"
              + " directory this hub wrote (<hub data-dir>/admin); a hub that lost its data dir has a new CA";
        }
        yield "is the hub running and listening on that address, and reachable from here?"
            + " (set the address with --hub or $MESHWIRE_HUB)";
      }
      case UNAUTHENTICATED, PERMISSION_DENIED -> "the hub refused this credential: use an admin credential of"
          + " this hub's mesh (<hub data-dir>/admin, or one issued with 'meshwire ca issue --role admin')";
      case DEADLINE_EXCEEDED -> "the hub did not answer in time: check that --hub is the hub's gRPC address"
          + " (not its metrics port) and that the hub is not overloaded";
      default -> "";
    };
  }

  /**
   * The message of a failed connect ("Connection refused: /127.0.0.1:7443", which names the
   * address), else of the innermost cause that has one (a refused certificate says why there).
   */
  private static String rootMessage(Throwable t) {
    String message = "";
    for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t instanceof java.net.ConnectException && t.getMessage() != null) {
        return NATIVE_CALL.matcher(t.getMessage().strip()).replaceFirst("");
      }
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = t.getMessage().strip();
      }
    }
    return message;
  }

  private static boolean has(Throwable t, Class<? extends Throwable> type) {
    for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
