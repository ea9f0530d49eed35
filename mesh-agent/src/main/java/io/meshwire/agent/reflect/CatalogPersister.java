package io.meshwire.agent.reflect;

import io.meshwire.reflection.catalog.Catalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code CatalogPersister} writes the peers' catalogs to a {@link PeerCatalogStore} on its own
 * thread ({@code reflection-store}), so an fsync never delays reflection. Writes are coalesced:
 * the first change of a burst schedules a write after {@code delay}, later ones only replace what
 * it will write. A failed write is retried after {@code retry} unless something newer is waiting;
 * a set too large for the file is not retried (the next change tries again). {@link #close()}
 * writes what the delay still held back.
 *
 * <p>Thread-safe: {@link #persistSoon} may be called from any thread; writes run on the owned one.
 */
final class CatalogPersister implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CatalogPersister.class);

  private final PeerCatalogStore store;
  private final Duration delay;
  private final Duration retry;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reflection-store");
    t.setDaemon(true);
    return t;
  });
  // The catalogs still to write (the latest only), handed to the store thread.
  private final AtomicReference<Map<String, Catalog>> unsaved = new AtomicReference<>();
  private final Delays delays;
  private final Counter writes;
  private final Counter writeFailures;

  CatalogPersister(PeerCatalogStore store, Duration delay, Duration retry, MeterRegistry meters) {
    this(store, delay, retry, null, meters);
  }

  /** @param delays times the writes (handed to this persister's thread), {@code null}: that thread's own timer */
  CatalogPersister(PeerCatalogStore store, Duration delay, Duration retry, Delays delays, MeterRegistry meters) {
    this.store = store;
    this.delays = delays != null ? delays : Delays.on(thread);
    this.delay = delay;
    this.retry = retry;
    this.writes = Counter.builder("meshwire.agent.peer.catalogs.writes")
        .description("Writes of the peer catalog file").register(meters);
    this.writeFailures = Counter.builder("meshwire.agent.peer.catalogs.write.failures")
        .description("Failed writes of the peer catalog file (retried)").register(meters);
  }

  Path path() {
    return store.path();
  }

  /** Hands over the current catalogs; they are written after the delay (with later ones instead). */
  void persistSoon(Map<String, Catalog> catalogs) {
    if (unsaved.getAndSet(Map.copyOf(catalogs)) == null) {
      schedule(delay);
    }
  }

  private void schedule(Duration after) {
    delays.after(after, () -> {
      try {
        thread.execute(this::persist);
      } catch (RejectedExecutionException e) {
        // closing: close() writes what is left
      }
    });
  }

  /** On the store thread: writes the latest catalogs handed over, if any. */
  private void persist() {
    Map<String, Catalog> latest = unsaved.getAndSet(null);
    if (latest == null) {
      return;
    }
    try {
      store.save(latest);
      writes.increment();
    } catch (PeerCatalogStore.TooLarge e) {
      // Retrying the same catalogs cannot succeed; the next change of any catalog tries again.
      writeFailures.increment();
      log.warn("peer catalog file not written file={} peers={} error=\"{}\"; the previous file stays",
          store.path(), latest.size(), e.getMessage());
    } catch (IOException | RuntimeException e) {
      writeFailures.increment();
      log.warn("peer catalog file write failed file={} peers={} error=\"{}\"; retrying in {}",
          store.path(), latest.size(), e.getMessage(), retry);
      // Unless something newer is waiting already, try these again later.
      if (unsaved.compareAndSet(null, latest)) {
        schedule(retry);
      }
    }
  }

  /** Writes what is still waiting, then stops the thread. */
  @Override
  public void close() {
    try {
      thread.submit(this::persist).get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("peer catalog file not written at close error=\"{}\"", e.toString());
    }
    thread.shutdownNow();
  }
}
