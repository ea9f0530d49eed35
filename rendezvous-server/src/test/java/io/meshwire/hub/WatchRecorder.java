package io.meshwire.hub;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/** {@code WatchRecorder} opens a Watch stream and records everything it receives, for assertions. */
final class WatchRecorder implements AutoCloseable {

  final List<WatchEvent> events = new CopyOnWriteArrayList<>();
  final CompletableFuture<Status> closed = new CompletableFuture<>();
  private ClientCallStreamObserver<WatchRequest> call;

  WatchRecorder(Channel channel, long sinceRevision, String meshUid) {
    RendezvousGrpc.newStub(channel).watch(
        WatchRequest.newBuilder().setSinceRevision(sinceRevision).setMeshUid(meshUid).build(),
        new ClientResponseObserver<WatchRequest, WatchEvent>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
            call = stream;
          }

          @Override
          public void onNext(WatchEvent value) {
            events.add(value);
          }

          @Override
          public void onError(Throwable t) {
            closed.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            closed.complete(Status.OK);
          }
        });
  }

  /** Waits (bounded) until some received event matches. */
  WatchEvent await(Predicate<WatchEvent> condition) {
    Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
        .until(() -> events.stream().anyMatch(condition));
    return events.stream().filter(condition).findFirst().orElseThrow();
  }

  WatchEvent awaitCaughtUp() {
    return await(WatchEvent::hasCaughtUp);
  }

  List<WatchEvent> ofCase(WatchEvent.EventCase kind) {
    List<WatchEvent> out = new ArrayList<>();
    events.stream().filter(e -> e.getEventCase() == kind).forEach(out::add);
    return out;
  }

  /** The revision to resume from: the highest revision received. */
  long lastRevision() {
    return events.stream().mapToLong(WatchEvent::getRevision).max().orElse(0);
  }

  Status awaitClosed(Duration within) throws Exception {
    return closed.get(within.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    if (call != null) {
      call.cancel("test done", null);
    }
  }
}
