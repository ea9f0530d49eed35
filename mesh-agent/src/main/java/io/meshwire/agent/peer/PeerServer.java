package io.meshwire.agent.peer;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.netaddr.HostPort;
import io.meshwire.reflection.catalog.CatalogHistory;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code PeerServer} runs the peer channel's gRPC server: mutual TLS on cluster certificates
 * ({@link PeerTls}), callers limited to current peers ({@link PeerAuthInterceptor}), the catalog
 * served from {@code history} ({@link PeerService}). {@link #start} returns once it listens.
 */
public final class PeerServer implements AutoCloseable {

  private final Server server;
  private final ExecutorService sends;
  private final ScheduledExecutorService timer;

  private PeerServer(Server server, ExecutorService sends, ScheduledExecutorService timer) {
    this.server = server;
    this.sends = sends;
    this.timer = timer;
  }

  /**
   * Listens on {@code listen} with mutual TLS.
   *
   * @param keys the cluster certificate presented, read at every handshake (renewals reach new
   *     connections; established ones are left alone)
   * @param isPeer whether a cluster is a current peer (asked on every call)
   */
  public static PeerServer start(HostPort listen, RenewableKeyManager keys, String clusterId, CatalogHistory history,
      Predicate<String> isPeer, Duration bookmarkInterval, InstantSource clock, MeterRegistry meters) throws IOException {
    return start(NettyServerBuilder.forAddress(new InetSocketAddress(listen.host(), listen.port()))
        .sslContext(PeerTls.server(keys, clock))
        .permitKeepAliveTime(10, TimeUnit.SECONDS), clusterId, history, isPeer, bookmarkInterval, meters);
  }

  /**
   * Serves on {@code transport}: the TLS server above, or an in-process one in tests (which has no
   * TLS session, so {@link PeerAuthInterceptor} refuses its callers as unauthenticated).
   */
  public static PeerServer start(ServerBuilder<?> transport, String clusterId, CatalogHistory history,
      Predicate<String> isPeer, Duration bookmarkInterval, MeterRegistry meters) throws IOException {
    ExecutorService sends = Executors.newVirtualThreadPerTaskExecutor();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "peer-bookmarks");
      t.setDaemon(true);
      return t;
    });
    PeerService service = new PeerService(clusterId, history, sends, timer, bookmarkInterval);
    Server server = transport
        .maxInboundMessageSize(1024 * 1024)
        .addService(ServerInterceptors.intercept(service, new PeerAuthInterceptor(isPeer, meters)))
        .build()
        .start();
    return new PeerServer(server, sends, timer);
  }

  /** The port it listens on (useful with port 0). */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    timer.shutdownNow();
    sends.shutdownNow();
  }
}
