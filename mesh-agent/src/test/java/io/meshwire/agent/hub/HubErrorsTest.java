package io.meshwire.agent.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import io.github.resilience4j.core.functions.Either;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.PinnedRandom;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the hub's gRPC errors say to the back-off: its hint, and whether the connection was refused. */
class HubErrorsTest {

  private static final Duration BASE = Duration.ofMillis(200);
  private static final Duration CAP = Duration.ofSeconds(30);

  @Test
  void intervalFunctionReadsTheRetryHintOfAGrpcError() {
    Backoff backoff = new Backoff(BASE, CAP, PinnedRandom.LOWEST);
    StatusRuntimeException limited = StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.RESOURCE_EXHAUSTED.getNumber())
        .setMessage("Announce: rate limited")
        .addDetails(Any.pack(RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(7).setNanos(500_000_000)).build()))
        .build());

    assertEquals(Optional.of(Duration.ofMillis(7500)), HubErrors.retryAfter(limited));
    assertEquals(7500L, HubErrors.retryInterval(backoff).apply(1, Either.left(limited)));
    assertEquals(0L, HubErrors.retryInterval(backoff).apply(1, Either.left(Status.UNAVAILABLE.asRuntimeException())));
    assertEquals(0L, HubErrors.retryInterval(backoff).apply(1, Either.right("a result")));
  }


  @Test
  void errorsWithoutDetailsCarryNoHint() {
    assertEquals(Optional.empty(), HubErrors.retryAfter(Status.UNAVAILABLE.asRuntimeException()));
    assertEquals(Optional.empty(), HubErrors.retryAfter(new IllegalStateException("not gRPC")));
  }


  @Test
  void theIntervalFunctionRecognisesARefusedConnectionInsideAGrpcError() {
    Backoff backoff = new Backoff(BASE, CAP, PinnedRandom.HIGHEST);
    var refused = Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new java.net.ConnectException("Connection refused: /198.18.0.2:7443")).asRuntimeException();
    var other = Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new java.io.IOException("Connection reset by peer")).asRuntimeException();
    assertEquals(Backoff.REFUSED_CAP.toMillis(), HubErrors.retryInterval(backoff).apply(12, Either.left(refused)));
    assertEquals(CAP.toMillis(), HubErrors.retryInterval(backoff).apply(12, Either.left(other)));
  }


  @Test
  void onlyARefusalCountsAsRefusedNotATimeoutOrAReset() {
    assertTrue(Backoff.connectionRefused(Status.UNAVAILABLE
        .withCause(new java.net.ConnectException("Connection refused")).asRuntimeException()));
    assertEquals(false, Backoff.connectionRefused(Status.UNAVAILABLE
        .withCause(new io.netty.channel.ConnectTimeoutException("connection timed out: /198.18.0.2:7443"))
        .asRuntimeException()));
    assertEquals(false, Backoff.connectionRefused(Status.UNAVAILABLE.asRuntimeException()));
    assertEquals(false, Backoff.connectionRefused(Status.RESOURCE_EXHAUSTED.withCause(
        new java.io.IOException("Connection refused, said someone")).asRuntimeException()));
  }
}
