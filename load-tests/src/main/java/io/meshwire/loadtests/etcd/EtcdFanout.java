package io.meshwire.loadtests.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.meshwire.loadtests.fanout.FanoutTracker;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code EtcdFanout} is the etcd side of the comparison: N jetcd watchers on one key prefix,
 * spread round-robin over C jetcd clients (each client is one connection and, in jetcd 0.8, its
 * own Vert.x instance with its own threads, which is why C is bounded), plus one writer client
 * that puts values under the prefix. Each watcher reports arrivals to a {@link FanoutTracker} by
 * the event's mod revision.
 *
 * <p>Thread-safety: watcher callbacks run on jetcd's threads and only touch atomics and the
 * tracker; the bench thread calls the rest.
 */
public final class EtcdFanout implements AutoCloseable {

  public static final String PREFIX = "/bench/";

  private final List<Client> clients;
  private final Client writer;
  private final List<Watch.Watcher> watchers = new ArrayList<>();
  private final ExecutorService callbacks;
  private final AtomicInteger created = new AtomicInteger();
  private final AtomicLong errors = new AtomicLong();
  private volatile FanoutTracker tracker;

  private EtcdFanout(List<Client> clients, Client writer, ExecutorService callbacks) {
    this.clients = clients;
    this.writer = writer;
    this.callbacks = callbacks;
  }

  /**
   * Connects {@code clientCount} clients to {@code endpoint} and opens {@code watcherCount}
   * watchers on {@link #PREFIX}; returns without waiting for them to be created.
   *
   * @param ssl TLS with a client certificate, or null for plaintext
   */
  public static EtcdFanout open(String endpoint, SslContext ssl, int watcherCount, int clientCount,
      FanoutTracker tracker) {
    ExecutorService callbacks = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "bench-jetcd");
      t.setDaemon(true);
      return t;
    });
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < clientCount; i++) {
      clients.add(client(endpoint, ssl, callbacks));
    }
    EtcdFanout f = new EtcdFanout(clients, client(endpoint, ssl, callbacks), callbacks);
    f.tracker = tracker;
    ByteSequence prefix = ByteSequence.from(PREFIX, StandardCharsets.UTF_8);
    WatchOption option = WatchOption.builder().isPrefix(true).withCreateNotify(true).build();
    for (int i = 0; i < watcherCount; i++) {
      int index = i;
      f.watchers.add(clients.get(i % clientCount).getWatchClient().watch(prefix, option,
          Watch.listener(r -> f.onResponse(index, r), err -> f.errors.incrementAndGet())));
    }
    return f;
  }

  private static Client client(String endpoint, SslContext ssl, ExecutorService callbacks) {
    var b = Client.builder().endpoints(endpoint).executorService(callbacks)
        .retryMaxAttempts(3).connectTimeout(Duration.ofSeconds(10));
    if (ssl != null) {
      b.sslContext(ssl);
    }
    return b.build();
  }

  private void onResponse(int watcher, WatchResponse r) {
    if (r.isCreatedNotify()) {
      created.incrementAndGet();
      return;
    }
    long now = System.nanoTime();
    for (WatchEvent e : r.getEvents()) {
      tracker.arrived(e.getKeyValue().getModRevision(), watcher, now);
    }
  }

  public void useTracker(FanoutTracker t) {
    tracker = t;
  }

  /** Waits until {@code count} watchers are created; false on timeout. */
  public boolean awaitCreated(int count, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (created.get() < count) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    return true;
  }

  public int created() {
    return created.get();
  }

  public long errors() {
    return errors.get();
  }

  public int connections() {
    return clients.size() + 1;
  }

  /** Puts {@code value} at {@code PREFIX + key}; completes with the revision etcd stored it at. */
  public CompletableFuture<Long> put(String key, byte[] value) {
    return writer.getKVClient()
        .put(ByteSequence.from(PREFIX + key, StandardCharsets.UTF_8), ByteSequence.from(value))
        .thenApply(r -> r.getHeader().getRevision());
  }

  @Override
  public void close() {
    watchers.forEach(Watch.Watcher::close);
    clients.forEach(Client::close);
    writer.close();
    callbacks.shutdownNow();
  }
}
