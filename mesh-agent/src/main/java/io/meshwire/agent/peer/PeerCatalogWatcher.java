package io.meshwire.agent.peer;

import io.grpc.Attributes;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.peer.v1.CatalogEvent;
import io.meshwire.proto.peer.v1.PeerGrpc;
import io.meshwire.proto.peer.v1.WatchCatalogRequest;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogChange;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PeerCatalogWatcher} follows one peer's catalog over the peer channel: it asks for what
 * came after the revision it holds (with the catalog uid it belongs to), applies the full catalog
 * or the changes it gets, and hands every new catalog to {@code onCatalog}. When the stream breaks
 * it reconnects after {@link Backoff} (reset once a stream has caught up) and resumes, so a short
 * outage costs only the changes missed.
 *
 * <p>Everything received is checked before use ({@link PeerCatalogMapper}, {@link CatalogLimits}):
 * a catalog or change that breaks a rule is refused whole, logged and counted
 * ({@code meshwire_agent_peer_catalog_rejected_total}); the last good catalog stays in place and the watcher
 * reconnects later. The server's identity is checked by TLS ({@link PeerTls#client}); this
 * cluster's certificate is read from a {@link RenewableKeyManager} at every handshake.
 *
 * <p>Counted per peer: full catalogs accepted ({@code meshwire.agent.peer.catalog.full}) and
 * streams started ({@code meshwire.agent.peer.catalog.streams}); resumes work while the first stays
 * flat as the second grows.
 *
 * <p>Threads: stream callbacks are serialized by gRPC; the catalog is guarded by this object.
 */
public final class PeerCatalogWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PeerCatalogWatcher.class);

  private final String peer;
  private final ManagedChannel channel;
  private final Backoff backoff;
  private final ScheduledExecutorService scheduler;
  private final CatalogLimits limits;
  private final BiConsumer<String, Catalog> onCatalog;
  private final MeterRegistry meters;
  private final AtomicLong fullCatalogs = new AtomicLong();
  private final AtomicLong changes = new AtomicLong();
  private final Counter fullCounter;
  private final Counter streamsCounter;
  // @GuardedBy("this")
  private Catalog current;
  // @GuardedBy("this")
  private int attempt;
  // @GuardedBy("this")
  private ClientCallStreamObserver<WatchCatalogRequest> call;
  // @GuardedBy("this")
  private boolean closed;

  /**
   * @param source the local address connections start from, if not the kernel's choice: the peer's
   *     tunnel carries only this cluster's pod addresses, and a gateway's default source address
   *     may be another one (its node or uplink address)
   * @param keys the cluster certificate presented, read at every handshake
   * @param resumeFrom the catalog held from an earlier session or run, if any
   */
  public PeerCatalogWatcher(String peer, HostPort address, Optional<InetAddress> source, RenewableKeyManager keys,
      InstantSource clock, Backoff backoff, ScheduledExecutorService scheduler, CatalogLimits limits,
      MeterRegistry meters, Optional<Catalog> resumeFrom, BiConsumer<String, Catalog> onCatalog) {
    this.peer = peer;
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(address.host(), address.port());
    source.ifPresent(from -> builder.localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
      @Override
      public SocketAddress createSocketAddress(SocketAddress remote, Attributes attrs) {
        return new InetSocketAddress(from, 0);
      }
    }));
    this.channel = builder
        .sslContext(PeerTls.client(keys, peer, clock))
        .keepAliveTime(30, TimeUnit.SECONDS)
        .maxInboundMessageSize(64 * 1024 * 1024)
        .build();
    this.backoff = backoff;
    this.scheduler = scheduler;
    this.limits = limits;
    this.meters = meters;
    this.onCatalog = onCatalog;
    this.current = resumeFrom.orElse(null);
    // Per peer, across watcher instances of the same peer: a steady rise of full catalogs next to
    // streams means resumes do not work (history too short, or the peer restarting).
    this.fullCounter = Counter.builder("meshwire.agent.peer.catalog.full").tag("peer", peer)
        .description("Full catalogs accepted from a peer (resumes that needed none do not count)").register(meters);
    this.streamsCounter = Counter.builder("meshwire.agent.peer.catalog.streams").tag("peer", peer)
        .description("WatchCatalog streams started to a peer (every reconnect attempt counts)").register(meters);
  }

  public void start() {
    connect();
  }

  /** The last accepted catalog of the peer, if any. */
  public synchronized Optional<Catalog> current() {
    return Optional.ofNullable(current);
  }

  /** How many full catalogs were accepted (resumes that needed none do not count). */
  public long fullCatalogs() {
    return fullCatalogs.get();
  }

  /** How many single changes were applied. */
  public long changesApplied() {
    return changes.get();
  }

  private synchronized void connect() {
    if (closed) {
      return;
    }
    streamsCounter.increment();
    WatchCatalogRequest request = current == null ? WatchCatalogRequest.getDefaultInstance()
        : WatchCatalogRequest.newBuilder().setCatalogUid(current.catalogUid()).setSinceRevision(current.revision()).build();
    PeerGrpc.newStub(channel).watchCatalog(request, new ClientResponseObserver<WatchCatalogRequest, CatalogEvent>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WatchCatalogRequest> stream) {
        synchronized (PeerCatalogWatcher.this) {
          call = stream;
        }
      }

      @Override
      public void onNext(CatalogEvent event) {
        handle(event);
      }

      @Override
      public void onError(Throwable t) {
        Status s = Status.fromThrowable(t);
        if (s.getCode() != Status.Code.CANCELLED) {
          log.info("peer catalog stream failed peer={} status={} detail=\"{}\"", peer, s.getCode(), s.getDescription());
        }
        retry();
      }

      @Override
      public void onCompleted() {
        retry();
      }
    });
  }

  private void handle(CatalogEvent event) {
    Catalog accepted;
    synchronized (this) {
      try {
        switch (event.getEventCase()) {
          case FULL -> {
            Catalog c = PeerCatalogMapper.fromFull(event.getRevision(), event.getFull());
            check(c);
            current = c;
            fullCatalogs.incrementAndGet();
            fullCounter.increment();
          }
          case SERVICE_UPSERTED -> {
            requireNext(event);
            Catalog c = current.apply(new CatalogChange.Upserted(event.getRevision(),
                PeerCatalogMapper.fromProto(event.getServiceUpserted(), "service_upserted")));
            check(c);
            current = c;
            changes.incrementAndGet();
          }
          case SERVICE_REMOVED -> {
            requireNext(event);
            current = current.apply(new CatalogChange.Removed(event.getRevision(),
                PeerCatalogMapper.fromProto(event.getServiceRemoved())));
            changes.incrementAndGet();
          }
          case CAUGHT_UP -> {
            attempt = 0;
            return;
          }
          default -> {
            return; // bookmarks: the revision we hold is the resume point already
          }
        }
        accepted = current;
      } catch (PeerCatalogMapper.InvalidCatalogException e) {
        reject("invalid", e.getMessage());
        return;
      }
    }
    onCatalog.accept(peer, accepted);
  }

  private void requireNext(CatalogEvent event) throws PeerCatalogMapper.InvalidCatalogException {
    if (current == null || event.getRevision() != current.revision() + 1) {
      throw new PeerCatalogMapper.InvalidCatalogException("revision " + event.getRevision() + " does not follow "
          + (current == null ? "nothing (no full catalog yet)" : current.revision()));
    }
  }

  private void check(Catalog c) throws PeerCatalogMapper.InvalidCatalogException {
    List<String> problems = limits.problems(c);
    if (!problems.isEmpty()) {
      throw new PeerCatalogMapper.InvalidCatalogException(problems.size() + " problem(s), first: " + problems.get(0));
    }
  }

  // @GuardedBy("this")
  private void reject(String reason, String detail) {
    Counter.builder("meshwire.agent.peer.catalog.rejected").tag("peer", peer).tag("reason", reason).register(meters).increment();
    log.warn("peer catalog rejected peer={} reason={} detail=\"{}\"; keeping revision {}", peer, reason, detail,
        current == null ? "none" : current.revision());
    if (call != null) {
      call.cancel("catalog rejected: " + detail, null);
    }
  }

  private synchronized void retry() {
    if (closed) {
      return;
    }
    attempt++;
    long delay = backoff.delay(attempt, Optional.empty()).toMillis();
    scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (call != null) {
        call.cancel("closing", null);
      }
    }
    channel.shutdownNow();
  }
}
