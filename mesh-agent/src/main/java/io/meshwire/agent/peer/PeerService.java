package io.meshwire.agent.peer;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.meshwire.proto.peer.v1.CatalogBookmark;
import io.meshwire.proto.peer.v1.CatalogCaughtUp;
import io.meshwire.proto.peer.v1.CatalogEvent;
import io.meshwire.proto.peer.v1.PeerGrpc;
import io.meshwire.proto.peer.v1.ProbeRequest;
import io.meshwire.proto.peer.v1.ProbeResponse;
import io.meshwire.proto.peer.v1.WatchCatalogRequest;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogChange;
import io.meshwire.reflection.catalog.CatalogHistory;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PeerService} serves this cluster's catalog to its peers. Each {@code WatchCatalog} stream
 * is a cursor into the {@link CatalogHistory}: first what the caller missed since its revision (only
 * the changes when the history still has them and the catalog uid matches, else the full catalog),
 * then {@code caught_up}, then every later change as it is recorded, and a bookmark every
 * {@code bookmarkInterval} so the caller's resume point stays fresh. Sends of one stream are
 * serialized on its cursor and respect gRPC flow control: a cursor writes only while the stream
 * {@code isReady()} and resumes from its onReady handler, like the hub's Watch. History listeners
 * and onReady only schedule sends on {@code executor}.
 */
final class PeerService extends PeerGrpc.PeerImplBase {

  private static final Logger log = LoggerFactory.getLogger(PeerService.class);

  private final String clusterId;
  private final CatalogHistory history;
  private final Executor executor;
  private final ScheduledExecutorService scheduler;
  private final Duration bookmarkInterval;

  public PeerService(String clusterId, CatalogHistory history, Executor executor, ScheduledExecutorService scheduler,
      Duration bookmarkInterval) {
    this.clusterId = clusterId;
    this.history = history;
    this.executor = executor;
    this.scheduler = scheduler;
    this.bookmarkInterval = bookmarkInterval;
  }

  @Override
  public void watchCatalog(WatchCatalogRequest request, StreamObserver<CatalogEvent> responses) {
    ServerCallStreamObserver<CatalogEvent> out = (ServerCallStreamObserver<CatalogEvent>) responses;
    String caller = PeerAuthInterceptor.CALLER.get();
    Cursor cursor = new Cursor(out, caller, request.getCatalogUid(), request.getSinceRevision());
    AutoCloseable listener = history.onChange(() -> {
      try {
        executor.execute(cursor::pump);
      } catch (java.util.concurrent.RejectedExecutionException serverClosed) {
        // The server shut its executor before this stream's cancel handler removed the listener:
        // the stream is gone, and the change must not fail the caller recording it.
      }
    });
    ScheduledFuture<?> bookmarks = scheduler.scheduleAtFixedRate(cursor::bookmark, bookmarkInterval.toMillis(),
        bookmarkInterval.toMillis(), TimeUnit.MILLISECONDS);
    // Flow control: the cursor writes only while the transport takes more; onReady resumes it.
    out.setOnReadyHandler(() -> executeQuietly(cursor::pump));
    out.setOnCancelHandler(() -> {
      bookmarks.cancel(false);
      try {
        listener.close();
      } catch (Exception ignored) {
        // removing a listener cannot fail
      }
      cursor.cancelled();
    });
    executor.execute(cursor::pump);
  }

  private void executeQuietly(Runnable task) {
    try {
      executor.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException serverClosed) {
      // the server is shutting down: the stream goes with it
    }
  }

  @Override
  public void probe(ProbeRequest request, StreamObserver<ProbeResponse> responses) {
    responses.onNext(ProbeResponse.newBuilder().setSentAt(request.getSentAt()).setClusterId(clusterId)
        .setCatalogRevision(history.latest().revision()).build());
    responses.onCompleted();
  }

  /** One caller's position in the history. */
  private final class Cursor {
    private final ServerCallStreamObserver<CatalogEvent> out;
    private final String caller;
    // @GuardedBy("this")
    private String uid;
    // @GuardedBy("this")
    private long revision;
    // @GuardedBy("this")
    private boolean done;
    // @GuardedBy("this")
    private boolean caughtUpSent;

    Cursor(ServerCallStreamObserver<CatalogEvent> out, String caller, String uid, long revision) {
      this.out = out;
      this.caller = caller;
      this.uid = uid;
      this.revision = revision;
    }

    /**
     * Sends what the caller misses, while the transport is ready: the full catalog (one message)
     * or the changes one by one, then {@code caught_up} once. When the transport is not ready it
     * returns with the cursor where it is; the stream's onReady handler calls it again. A slow
     * peer therefore costs no memory beyond the shared history: when it falls behind what the
     * history keeps, it gets the full catalog instead.
     */
    synchronized void pump() {
      if (done) {
        return;
      }
      try {
        if (!out.isReady()) {
          return;
        }
        switch (history.since(uid, revision)) {
          case CatalogHistory.Resume.Full full -> {
            Catalog c = full.catalog();
            out.onNext(PeerCatalogMapper.full(c));
            log.debug("catalog sent in full peer={} revision={} services={}", caller, c.revision(), c.services().size());
            uid = c.catalogUid();
            revision = c.revision();
          }
          case CatalogHistory.Resume.Changes changes -> {
            for (CatalogChange change : changes.changes()) {
              if (!out.isReady()) {
                return; // the cursor stays before this change; onReady resumes here
              }
              out.onNext(PeerCatalogMapper.change(change));
              revision = change.revision();
            }
          }
        }
        if (!caughtUpSent && out.isReady()) {
          out.onNext(CatalogEvent.newBuilder().setRevision(revision).setCaughtUp(CatalogCaughtUp.getDefaultInstance()).build());
          caughtUpSent = true;
        }
      } catch (RuntimeException e) {
        fail(e);
      }
    }

    /** A fresh resume point; skipped while the transport is busy (the next one will do). */
    synchronized void bookmark() {
      if (!done && caughtUpSent && out.isReady()) {
        try {
          out.onNext(CatalogEvent.newBuilder().setRevision(revision).setBookmark(CatalogBookmark.getDefaultInstance()).build());
        } catch (RuntimeException e) {
          fail(e);
        }
      }
    }

    synchronized void cancelled() {
      done = true;
    }

    private void fail(RuntimeException e) {
      done = true;
      log.info("catalog stream ended peer={} error=\"{}\"", caller, e.toString());
      try {
        out.onError(Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException());
      } catch (RuntimeException alreadyClosed) {
        // the call is gone already
      }
    }
  }

  static Timestamp now() {
    java.time.Instant t = java.time.Instant.now();
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
