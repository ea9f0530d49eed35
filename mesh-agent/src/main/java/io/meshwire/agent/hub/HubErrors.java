package io.meshwire.agent.hub;

import com.google.rpc.RetryInfo;
import io.github.resilience4j.core.IntervalBiFunction;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.meshwire.netaddr.Backoff;
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

  /** {@code backoff} as a Resilience4j interval function, reading hints and refusals from gRPC errors. */
  public static IntervalBiFunction<Object> retryInterval(Backoff backoff) {
    return (attempt, either) -> backoff.delay(attempt,
        either.isLeft() ? retryAfter(either.getLeft()) : Optional.empty(),
        either.isLeft() && Backoff.connectionRefused(either.getLeft())).toMillis();
  }

  /**
   * Whether {@code t} is the hub refusing this agent in a way no retry fixes: its certificate
   * revoked ({@link HubState.Condition#REVOKED}), or its identity or record refused
   * ({@link HubState.Condition#REFUSED}: an expired or unknown certificate, a spent join token, a
   * cluster ID its certificate does not carry, a WireGuard key another cluster holds).
   */
  public static Optional<HubState.Condition> refusal(Throwable t) {
    if (hubIdentityChanged(t).isPresent()) {
      return Optional.of(HubState.Condition.REFUSED); // this agent refuses the hub: no retry fixes that either
    }
    Status status = Status.fromThrowable(t);
    return switch (status.getCode()) {
      case UNAUTHENTICATED, PERMISSION_DENIED, ALREADY_EXISTS -> Optional.of(
          status.getDescription() != null && status.getDescription().toLowerCase(java.util.Locale.ROOT).contains("revoked")
              && !status.getDescription().startsWith("join_token")
              ? HubState.Condition.REVOKED : HubState.Condition.REFUSED);
      default -> Optional.empty();
    };
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
        // Short enough that the advice survives the 200-character detail of /status.
        return Optional.of("the hub's certificate is not of this agent's mesh (" + r.reason() + "): if the hub lost"
            + " its data, re-enroll with 'meshwire agent rejoin'; " + r.getMessage());
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
