package io.meshwire.agent.hub;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Optional;

/** {@code HubErrors} reads what the hub's errors say: retry hints and which ones are worth retrying. */
public final class HubErrors {

  private HubErrors() {}

  /** The google.rpc.RetryInfo delay in a gRPC error, if any. */
  public static Optional<Duration> retryAfter(Throwable t) {
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    if (status == null) {
      return Optional.empty();
    }
    return status.getDetailsList().stream()
        .filter(d -> d.is(RetryInfo.class))
        .findFirst()
        .map(d -> {
          try {
            var delay = d.unpack(RetryInfo.class).getRetryDelay();
            return Duration.ofSeconds(delay.getSeconds(), delay.getNanos());
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            return Duration.ZERO;
          }
        });
  }

  /**
   * Whether {@code t} (or a cause of it, e.g. of a gRPC {@code UNAVAILABLE}) is a refused TCP
   * connection: the address answered, nothing listens there. A connect that timed out is not one.
   */
  public static boolean connectionRefused(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.net.ConnectException && !(c instanceof io.netty.channel.ConnectTimeoutException)
          && c.getMessage() != null && c.getMessage().toLowerCase(java.util.Locale.ROOT).contains("refused")) {
        return true;
      }
    }
    return false;
  }

  /**
   * What changed when the hub's certificate does not belong to this agent's mesh (not issued by its
   * CA, or of another trust domain): the hub lost its data and made a new CA, or the address is
   * another mesh's hub. Retrying cannot fix it; the message says what can.
   */
  public static Optional<String> hubIdentityChanged(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof io.meshwire.certs.CertificateRejectedException r
          && switch (r.reason()) {
            case UNKNOWN_CA, BAD_SIGNATURE, WRONG_MESH -> true;
            default -> false;
          }) {
        return Optional.of("the hub's certificate is not of this agent's mesh (" + r.reason() + ": " + r.getMessage()
            + "): the hub lost its data (a new CA) or is another mesh's hub; if the hub lost its data,"
            + " re-enroll with 'meshwire agent rejoin' (docs/operations.md)");
      }
    }
    return Optional.empty();
  }

  /** Errors that another attempt may fix (the hub is down, busy or restarting). */
  public static boolean isTransient(Throwable t) {
    return switch (Status.fromThrowable(t).getCode()) {
      case UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ABORTED, INTERNAL, UNKNOWN, CANCELLED -> true;
      default -> false;
    };
  }
}
