package io.meshwire.hub.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.meshwire.hub.membership.RetryHint;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** What a caller gets when the store fails: a retry hint when the store gives one, plain UNAVAILABLE otherwise. */
class StoreFailureStatusTest {

  private static final class Busy extends RuntimeException implements RetryHint {
    private static final long serialVersionUID = 1L;
    private final boolean overloaded;

    Busy(String message, boolean overloaded) {
      super(message);
      this.overloaded = overloaded;
    }

    @Override
    public Duration retryAfter() {
      return Duration.ofMillis(1500);
    }

    @Override
    public boolean overloaded() {
      return overloaded;
    }
  }

  private static Optional<Duration> retryInfo(StatusRuntimeException e) throws Exception {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      return Optional.empty();
    }
    for (com.google.protobuf.Any any : status.getDetailsList()) {
      if (any.is(RetryInfo.class)) {
        com.google.protobuf.Duration d = any.unpack(RetryInfo.class).getRetryDelay();
        return Optional.of(Duration.ofSeconds(d.getSeconds(), d.getNanos()));
      }
    }
    return Optional.empty();
  }

  @Test
  void aReplicaWithTooManyWritesInFlightAnswersResourceExhaustedWithItsHintThroughTheFuture() throws Exception {
    StatusRuntimeException e = Statuses.internal("store",
        new CompletionException(new Busy("cluster east: 64 writes to etcd in flight", true)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().startsWith("store: cluster east: 64 writes to etcd in flight"),
        e.getStatus().getDescription());
    assertEquals(Optional.of(Duration.ofMillis(1500)), retryInfo(e));
  }

  @Test
  void aWriteTheStoreDidNotCommitAnswersUnavailableWithItsHint() throws Exception {
    StatusRuntimeException e = Statuses.internal("store", new Busy("etcd has no quorum (1 of 3 members answer)", false));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("etcd has no quorum"), e.getStatus().getDescription());
    assertEquals(Optional.of(Duration.ofMillis(1500)), retryInfo(e));
  }

  @Test
  void aRejectionDecidedAfterTheCallReturnedKeepsItsOwnStatus() {
    StatusRuntimeException e = Statuses.internal("store", new CompletionException(new io.meshwire.hub.membership
        .Rejection(io.meshwire.hub.membership.Rejection.Kind.FAILED_PRECONDITION,
        "record.generation: 2 is not greater than the stored generation 3")));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertEquals("record.generation: 2 is not greater than the stored generation 3", e.getStatus().getDescription());
  }

  @Test
  void aFailureWithoutAHintStaysPlainUnavailable() throws Exception {
    StatusRuntimeException e = Statuses.internal("store", new IllegalStateException("disk full"));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    assertEquals("store: disk full", e.getStatus().getDescription());
    assertFalse(retryInfo(e).isPresent());
  }
}
