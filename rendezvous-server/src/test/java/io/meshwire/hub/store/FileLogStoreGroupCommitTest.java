package io.meshwire.hub.store;

import static io.meshwire.hub.store.StoreFixtures.assertRevisions;
import static io.meshwire.hub.store.StoreFixtures.payload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group commit: concurrent appends share fsyncs. */
class FileLogStoreGroupCommitTest {

  private static final int THREADS = 8;
  private static final int PER_THREAD = 125;

  @TempDir Path dir;

  @Test
  void concurrentAppendsAllCompleteWithFewerFsyncsThanAppends() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    int total = THREADS * PER_THREAD;
    try (FileLogStore store = FileLogStore.open(dir, FileLogStore.Options.defaults(), meters)) {
      // Like the hub: a lock hands out revisions and appends under it; appends never block on I/O.
      ReentrantLock sequencer = new ReentrantLock();
      long[] next = {1};
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          workers.add(pool.submit(() -> {
            assertTrue(start.await(30, TimeUnit.SECONDS));
            for (int i = 0; i < PER_THREAD; i++) {
              sequencer.lock();
              try {
                long revision = next[0]++;
                futures.add(store.append(revision, payload(revision)));
              } finally {
                sequencer.unlock();
              }
            }
            return null;
          }));
        }
        start.countDown();
        for (Future<?> worker : workers) {
          worker.get(30, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

      assertEquals(total, futures.size());
      assertEquals(total, store.durableRevision());
      long fsyncs = meters.get("meshwire.hub.store.fsync").timer().count();
      assertTrue(fsyncs >= 1 && fsyncs < total, "fsyncs=" + fsyncs + " for " + total + " appends");
      assertEquals(total, meters.get("meshwire.hub.store.batch.size").summary().totalAmount());
    }
    try (FileLogStore store = StoreFixtures.open(dir)) {
      assertRevisions(store.recovered().entries(), 1, total);
    }
  }
}
