package io.meshwire.agent.reflect;

import io.meshwire.agent.peer.PeerServer;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogHistory;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code CatalogServer} keeps this cluster's catalog history and serves it on the peer channel
 * from the first recorded catalog on: before that the server would serve an empty catalog, which a
 * peer would take for a mass unexport. A server that cannot listen is tried again after
 * {@link #RETRY}.
 *
 * <p>Not thread-safe: {@link #record} and {@link #close} run on the owner's thread (retries are
 * handed to it through {@code owner}); {@link #port} and {@link #exported} may be read from any.
 */
final class CatalogServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CatalogServer.class);

  /** How long a server that could not listen waits before the next try. */
  static final Duration RETRY = Duration.ofSeconds(10);

  /** Starts the peer server on a history: the TLS listener in production, in-process in tests. */
  @FunctionalInterface
  interface Starter {
    PeerServer start(CatalogHistory history) throws IOException;
  }

  private final CatalogHistory history = new CatalogHistory(Catalog.empty(), 1000);
  private final Starter starter;
  private final String where;
  private final Delays delays;
  private final Executor owner;
  private volatile PeerServer server; // written on the owner's thread only
  private volatile int exported;
  private boolean closed;

  /** @param where the listen address, for logs */
  CatalogServer(Starter starter, String where, Delays delays, Executor owner) {
    this.starter = starter;
    this.where = where;
    this.delays = delays;
    this.owner = owner;
  }

  /** A new local catalog: recorded for peers, and the server started if it is not yet. */
  void record(Catalog catalog) {
    history.record(catalog);
    exported = catalog.services().size();
    start();
  }

  private void start() {
    if (server != null || closed) {
      return;
    }
    try {
      server = starter.start(history);
      log.info("peer server listening listen={} port={}", where, server.port());
    } catch (IOException e) {
      log.error("peer server cannot listen peer-listen={} error=\"{}\"; retrying in {}s", where, e.getMessage(),
          RETRY.toSeconds());
      delays.after(RETRY, () -> owner.execute(this::start));
    }
  }

  /** The peer server's port once it listens (useful with port 0). */
  Optional<Integer> port() {
    PeerServer s = server;
    return s == null ? Optional.empty() : Optional.of(s.port());
  }

  /** How many services the latest local catalog exports. */
  int exported() {
    return exported;
  }

  /** Stops the server (waiting a bounded time for it); no start after this. */
  @Override
  public void close() {
    closed = true;
    if (server != null) {
      try {
        server.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
