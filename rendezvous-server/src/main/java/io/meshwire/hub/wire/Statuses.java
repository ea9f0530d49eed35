package io.meshwire.hub.wire;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.membership.RetryHint;
import java.time.Duration;

/**
 * {@code Statuses} maps the hub's expected failures onto gRPC statuses, in one place: domain
 * rejections, retry hints (google.rpc.RetryInfo), rate limits. Beside the proto mapping, so that
 * the services ({@code hub.api}) and the authorization ({@code hub.auth}) share it without
 * depending on each other.
 */
public final class Statuses {

  private Statuses() {}

  public static StatusRuntimeException of(Rejection r) {
    Status status = switch (r.kind()) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case NOT_FOUND -> Status.NOT_FOUND;
      case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
    };
    return status.withDescription(r.getMessage()).asRuntimeException();
  }

  /** A status carrying google.rpc.RetryInfo: the client waits at least {@code retryAfter}. */
  public static StatusRuntimeException withRetry(Code code, String message, Duration retryAfter) {
    RetryInfo retry = RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
        .setSeconds(retryAfter.toSeconds()).setNanos(retryAfter.toNanosPart())).build();
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(message + " (retry after " + retryAfter.toMillis() + " ms)")
        .addDetails(Any.pack(retry))
        .build());
  }

  public static StatusRuntimeException rateLimited(String what, Duration retryAfter) {
    return withRetry(Code.RESOURCE_EXHAUSTED, what + ": rate limited", retryAfter);
  }

  /** {@code failure} without the CompletionExceptions a future wrapped it in. */
  public static Throwable unwrapped(Throwable failure) {
    Throwable root = failure;
    while (root instanceof java.util.concurrent.CompletionException && root.getCause() != null) {
      root = root.getCause();
    }
    return root;
  }

  /**
   * A store failure: UNAVAILABLE; with a {@link RetryHint} (possibly wrapped by a future) the status
   * and RetryInfo it asks for; a {@link Rejection} completing a future, its own status.
   */
  public static StatusRuntimeException internal(String what, Throwable cause) {
    Throwable root = unwrapped(cause);
    if (root instanceof Rejection r) { // decided by the store after the call returned its future
      return of(r);
    }
    if (root instanceof RetryHint hint) {
      return withRetry(hint.overloaded() ? Code.RESOURCE_EXHAUSTED : Code.UNAVAILABLE,
          what + ": " + root.getMessage(), hint.retryAfter());
    }
    return Status.UNAVAILABLE.withDescription(what + ": " + cause.getMessage()).withCause(cause).asRuntimeException();
  }
}
