package io.meshwire.loadtests.agent;

import com.google.rpc.RetryInfo;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceResponse;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code SimulatedAgent} is one cluster's hub client as the load generator plays it: its own
 * certificate and TLS connection, Announce with growing generations, and one Watch stream that it
 * resumes from the last revision it received after any failure, waiting the hub's retry hint plus
 * full jitter (the real agent's policy).
 *
 * <p>Thread-safety: stream callbacks run on the connection's event loop, one call at a time; the
 * fields they share with the bench thread are volatile or atomic. {@link #announce} is called by
 * one bench thread at a time.
 */
public final class SimulatedAgent {

  static final MethodDescriptor<WatchRequest, EventSummary> WATCH = RendezvousGrpc.getWatchMethod()
      .toBuilder(ProtoUtils.marshaller(WatchRequest.getDefaultInstance()), EventSummary.MARSHALLER)
      .build();
  private static final int ANNOUNCE_ATTEMPTS = 8;
  private static final Duration ANNOUNCE_DEADLINE = Duration.ofSeconds(30);
  /** gRPC's length-prefixed framing adds five bytes to every message. */
  private static final int GRPC_FRAME_BYTES = 5;

  private final int index;
  private final AgentFleet fleet;
  private final ManagedChannel channel;

  // Owned by the bench thread that announces.
  private long generation;

  // Written by stream callbacks, read by the bench thread.
  private volatile long resumeRevision;
  private volatile String meshUid = "";
  private volatile boolean caughtUp;
  private volatile long caughtUpAtNanos;
  private volatile ClientCall<WatchRequest, EventSummary> call;
  private volatile int failedStreams;

  final AtomicLong bytes = new AtomicLong();
  final AtomicLong chunks = new AtomicLong();
  final AtomicLong snapshots = new AtomicLong();
  final AtomicLong changes = new AtomicLong();
  final AtomicLong changeBytes = new AtomicLong();
  final AtomicLong refusals = new AtomicLong();
  final AtomicLong streamErrors = new AtomicLong();

  SimulatedAgent(int index, AgentFleet fleet, ManagedChannel channel) {
    this.index = index;
    this.fleet = fleet;
    this.channel = channel;
  }

  public int index() {
    return index;
  }

  /** Watch bytes received so far (messages plus gRPC framing), over every stream of this agent. */
  public long bytesReceived() {
    return bytes.get();
  }

  public long resumeRevision() {
    return resumeRevision;
  }

  public boolean caughtUp() {
    return caughtUp;
  }

  public long caughtUpAtNanos() {
    return caughtUpAtNanos;
  }

  /**
   * Announces the next generation of this agent's record, retrying transient failures (hub down,
   * rate limited) with back-off; completes with the revision the hub stored it at. As the real
   * agent: a call refused as overloaded (RESOURCE_EXHAUSTED, never written) is retried as it was;
   * after UNAVAILABLE or a deadline, which may have been written, the retry announces the next
   * generation (the real agent reconnects and announces a greater one), since the same generation
   * again would be refused as not greater than the stored one.
   */
  public CompletableFuture<Long> announce() {
    CompletableFuture<Long> done = new CompletableFuture<>();
    announce(AgentRecords.record(index, ++generation), 1, done);
    return done;
  }

  private void announce(ClusterRecord record, int attempt, CompletableFuture<Long> done) {
    ClientCall<AnnounceRequest, AnnounceResponse> c = channel.newCall(RendezvousGrpc.getAnnounceMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(ANNOUNCE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
    ClientCalls.asyncUnaryCall(c, AnnounceRequest.newBuilder().setRecord(record).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(AnnounceResponse r) {
            done.complete(r.getRevision());
          }

          @Override
          public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            fleet.announceFailed(s);
            boolean retry = switch (s.getCode()) {
              case UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED -> true;
              default -> false;
            };
            if (!retry || attempt >= ANNOUNCE_ATTEMPTS || fleet.stopping()) {
              done.completeExceptionally(new IllegalStateException(AgentRecords.clusterId(index)
                  + ": announce failed after " + attempt + " attempts: " + s, t));
              return;
            }
            Duration wait = fleet.backoff().delay(attempt, java.util.Optional.of(retryAfter(s, Status.trailersFromThrowable(t))),
                io.meshwire.netaddr.Backoff.connectionRefused(t));
            ClusterRecord next = s.getCode() == Status.Code.RESOURCE_EXHAUSTED ? record
                : AgentRecords.record(index, ++generation);
            fleet.timer().schedule(() -> announce(next, attempt + 1, done), wait.toMillis(), TimeUnit.MILLISECONDS);
          }

          @Override
          public void onCompleted() {}
        });
  }

  /** Opens the Watch stream from the last revision received (0 at first: snapshot). */
  public void watch() {
    if (fleet.stopping()) {
      return;
    }
    channel.resetConnectBackoff(); // our own back-off decides when to try, not the channel's
    ClientCall<WatchRequest, EventSummary> c = channel.newCall(WATCH, CallOptions.DEFAULT);
    call = c;
    c.start(new StreamListener(), new Metadata());
    c.request(Integer.MAX_VALUE);
    c.sendMessage(WatchRequest.newBuilder().setSinceRevision(resumeRevision).setMeshUid(meshUid).build());
    c.halfClose();
  }

  /** Ends the Watch stream without reconnecting (the fleet is stopping). */
  void cancel() {
    ClientCall<WatchRequest, EventSummary> c = call;
    if (c != null) {
      c.cancel("bench done", null);
    }
  }

  void shutdown() {
    channel.shutdownNow();
  }

  private final class StreamListener extends ClientCall.Listener<EventSummary> {
    @Override
    public void onMessage(EventSummary e) {
      long now = System.nanoTime();
      bytes.addAndGet(e.bytes() + GRPC_FRAME_BYTES);
      switch (e.kind()) {
        case HELLO -> {
          meshUid = e.meshUid();
          if (e.snapshotFollows()) {
            snapshots.incrementAndGet();
          }
        }
        case SNAPSHOT_CHUNK -> {
          chunks.incrementAndGet();
          if (e.lastChunk()) {
            resumeRevision = e.revision(); // only a whole snapshot is a resume point
          }
        }
        case CHANGE -> {
          changes.incrementAndGet();
          changeBytes.addAndGet(e.bytes() + GRPC_FRAME_BYTES);
          resumeRevision = e.revision();
          fleet.tracker().arrived(e.revision(), index, now);
        }
        case CAUGHT_UP -> {
          resumeRevision = Math.max(resumeRevision, e.revision());
          if (!caughtUp) {
            caughtUp = true;
            caughtUpAtNanos = now;
            failedStreams = 0;
            fleet.caughtUpChanged(+1);
          }
        }
        case BOOKMARK -> resumeRevision = Math.max(resumeRevision, e.revision());
        case GOAWAY, UNKNOWN -> { }
      }
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      if (caughtUp) {
        caughtUp = false;
        fleet.caughtUpChanged(-1);
      }
      if (fleet.stopping()) {
        return;
      }
      streamErrors.incrementAndGet();
      fleet.streamClosed(status);
      if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        refusals.incrementAndGet();
      }
      int attempt = ++failedStreams;
      Duration wait = fleet.backoff().delay(attempt, java.util.Optional.of(retryAfter(status, trailers)),
          status.getCause() != null && io.meshwire.netaddr.Backoff.connectionRefused(status.getCause()));
      fleet.timer().schedule(SimulatedAgent.this::watch, wait.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** The google.rpc.RetryInfo delay the hub put in an error, or zero. */
  static Duration retryAfter(Status status, Metadata trailers) {
    com.google.rpc.Status details = trailers == null ? null : StatusProto.fromStatusAndTrailers(status, trailers);
    if (details == null) {
      return Duration.ZERO;
    }
    for (var any : details.getDetailsList()) {
      if (any.is(RetryInfo.class)) {
        try {
          var d = any.unpack(RetryInfo.class).getRetryDelay();
          return Duration.ofSeconds(d.getSeconds(), d.getNanos());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return Duration.ZERO;
        }
      }
    }
    return Duration.ZERO;
  }
}
