package io.meshwire.hub.store;

import static io.meshwire.hub.store.StoreFixtures.RECORD;
import static io.meshwire.hub.store.StoreFixtures.appendAll;
import static io.meshwire.hub.store.StoreFixtures.assertRevisions;
import static io.meshwire.hub.store.StoreFixtures.files;
import static io.meshwire.hub.store.StoreFixtures.open;
import static io.meshwire.hub.store.StoreFixtures.payload;
import static io.meshwire.hub.store.StoreFixtures.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unit tests of {@link FileLogStore} on real files: appends, reopen, validation, metrics. */
class FileLogStoreTest {

  @TempDir Path dir;

  @Test
  void reopenReturnsTheAppendedEntriesInOrder() throws Exception {
    try (FileLogStore store = open(dir)) {
      assertEquals(0, store.recovered().entries().size());
      assertNull(store.recovered().snapshot());
      appendAll(store, 1, 50);
    }
    try (FileLogStore store = open(dir)) {
      Recovered recovered = store.recovered();
      assertRevisions(recovered.entries(), 1, 50);
      assertEquals(50, recovered.report().entriesRecovered());
      assertEquals(0, recovered.report().bytesDroppedFromTornTail());
      assertTrue(recovered.report().detail().startsWith("clean"), recovered.report().detail());
      assertEquals(50, store.durableRevision());
      assertEquals(50, recovered.lastRevision());
    }
  }

  @Test
  void acknowledgedAppendSurvivesCloseAndReopen() throws Exception {
    byte[] entry = "an acknowledged change".getBytes(StandardCharsets.UTF_8);
    try (FileLogStore store = open(dir)) {
      store.append(1, entry).get(10, TimeUnit.SECONDS);
      assertEquals(1, store.durableRevision());
    }
    try (FileLogStore store = open(dir)) {
      assertEquals(List.of(new Entry(1, entry)), store.recovered().entries());
    }
  }

  @Test
  void closeFlushesAppendsStillQueued() throws Exception {
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxBatchDelay(Duration.ofMillis(500)));
    for (long r = 1; r <= 20; r++) {
      futures.add(store.append(r, payload(r)));
    }
    store.close();
    for (CompletableFuture<Void> f : futures) {
      assertTrue(f.isDone() && !f.isCompletedExceptionally(), "every accepted append is flushed by close()");
    }
    try (FileLogStore reopened = open(dir)) {
      assertRevisions(reopened.recovered().entries(), 1, 20);
    }
  }

  @Test
  void rejectsRevisionsThatAreNotConsecutive() throws Exception {
    try (FileLogStore store = open(dir)) {
      IllegalStateException first = assertThrows(IllegalStateException.class, () -> store.append(2, payload(2)));
      assertTrue(first.getMessage().contains("next revision must be 1"), first.getMessage());
      appendAll(store, 1, 3);
      assertThrows(IllegalStateException.class, () -> store.append(3, payload(3)));
      assertThrows(IllegalStateException.class, () -> store.append(5, payload(5)));
      assertThrows(IllegalStateException.class, () -> store.append(0, payload(0)));
    }
    try (FileLogStore store = open(dir)) {
      assertThrows(IllegalStateException.class, () -> store.append(3, payload(3)));
      store.append(4, payload(4)).get(10, TimeUnit.SECONDS);
      assertEquals(4, store.durableRevision());
    }
  }

  @Test
  void rejectsEntryOverMaxEntryBytesWithoutUsingTheRevision() throws Exception {
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxEntryBytes(100))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.append(1, new byte[101]));
      assertTrue(e.getMessage().contains("101 bytes, over maxEntryBytes 100"), e.getMessage());
      store.append(1, new byte[100]).get(10, TimeUnit.SECONDS);
    }
    try (FileLogStore store = open(dir)) {
      assertEquals(1, store.recovered().entries().size());
      assertEquals(100, store.recovered().entries().get(0).bytes().length);
    }
  }

  @Test
  void meshUidIsCreatedOnceAndStableAcrossReopen(@TempDir Path other) throws Exception {
    String uid;
    try (FileLogStore store = open(dir)) {
      uid = store.recovered().meshUid();
      assertEquals(uid, UUID.fromString(uid).toString());
      appendAll(store, 1, 2);
    }
    assertEquals(uid + "\n", Files.readString(dir.resolve("mesh_uid")));
    try (FileLogStore store = open(dir)) {
      assertEquals(uid, store.recovered().meshUid());
    }
    try (FileLogStore store = open(other)) {
      assertNotEquals(uid, store.recovered().meshUid());
    }
  }

  @Test
  void missingMeshUidBesideExistingLogIsAnError() throws Exception {
    try (FileLogStore store = open(dir)) {
      appendAll(store, 1, 2);
    }
    Files.delete(dir.resolve("mesh_uid"));
    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(dir.resolve("mesh_uid"), e.file());
    assertTrue(e.getMessage().contains("refusing to create a new mesh UID"), e.getMessage());
  }

  @Test
  void secondOpenOfTheSameDirectoryFailsWhileTheFirstIsOpen() throws Exception {
    try (FileLogStore store = open(dir)) {
      StoreException e = assertThrows(StoreException.class, () -> open(dir));
      assertTrue(e.getMessage().contains("already open"), e.getMessage());
      appendAll(store, 1, 1);
    }
    try (FileLogStore store = open(dir)) {
      assertEquals(1, store.recovered().entries().size());
    }
  }

  @Test
  void appendAfterCloseIsRejected() throws Exception {
    FileLogStore store = open(dir);
    store.close();
    store.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> store.append(1, payload(1)));
    assertThrows(IllegalStateException.class, () -> store.snapshot(1, new byte[0]));
  }

  @Test
  void rollsToANewSegmentBeforeARecordWouldExceedMaxSegmentBytes() throws Exception {
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxSegmentBytes(3 * RECORD))) {
      appendAll(store, 1, 10);
    }
    assertEquals(List.of(StoreFiles.segmentName(1), StoreFiles.segmentName(4), StoreFiles.segmentName(7),
        StoreFiles.segmentName(10)), files(dir, "log-*.seg"));
    assertEquals(3L * RECORD, Files.size(segment(dir, 1)));
    assertEquals(RECORD, Files.size(segment(dir, 10)));
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxSegmentBytes(3 * RECORD))) {
      assertRevisions(store.recovered().entries(), 1, 10);
      appendAll(store, 11, 13); // 11 and 12 fill log-10; 13 starts log-13
    }
    assertEquals(StoreFiles.segmentName(13), files(dir, "log-*.seg").get(4));
  }

  @Test
  void recordLargerThanASegmentGetsOneOfItsOwn() throws Exception {
    byte[] big = new byte[1000];
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxSegmentBytes(100))) {
      appendAll(store, 1, 1);
      store.append(2, big).get(10, TimeUnit.SECONDS);
      store.append(3, payload(3)).get(10, TimeUnit.SECONDS);
    }
    assertEquals(3, files(dir, "log-*.seg").size());
    try (FileLogStore store = open(dir)) {
      assertArrayEquals(big, store.recovered().entries().get(1).bytes());
    }
  }

  @Test
  void refusesEveryAppendAfterAnIoError() throws Exception {
    Path inTheWay = segment(dir, 3);
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxSegmentBytes(RECORD))) {
      appendAll(store, 1, 2);
      Files.createDirectory(inTheWay); // the writer cannot create the segment for revision 3

      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> store.append(3, payload(3)).get(10, TimeUnit.SECONDS));
      StoreException cause = (StoreException) failed.getCause();
      assertEquals(inTheWay, cause.file());
      assertTrue(cause.getMessage().contains(inTheWay.toString()), cause.getMessage());

      ExecutionException refused = assertThrows(ExecutionException.class,
          () -> store.append(4, payload(4)).get(10, TimeUnit.SECONDS));
      assertTrue(refused.getCause().getMessage().contains("refusing to append revision 4"),
          refused.getCause().getMessage());
      assertEquals(2, store.durableRevision());
    }
    Files.delete(inTheWay);
    try (FileLogStore store = open(dir)) {
      assertRevisions(store.recovered().entries(), 1, 2);
      appendAll(store, 3, 3);
    }
  }

  @Test
  void batchDelayLetsSequentialAppendsShareOneFsync() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    FileLogStore.Options options = FileLogStore.Options.defaults().withMaxBatchDelay(Duration.ofMillis(300));
    try (FileLogStore store = FileLogStore.open(dir, options, meters)) {
      appendAll(store, 1, 10);
      long fsyncs = meters.get("meshwire.hub.store.fsync").timer().count();
      assertTrue(fsyncs >= 1 && fsyncs < 10, "fsyncs=" + fsyncs);
    }
  }

  @Test
  void publishesMetricsUnderMeshwireNames() throws Exception {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (FileLogStore store = FileLogStore.open(dir, FileLogStore.Options.defaults(), meters)) {
      appendAll(store, 1, 5);
      String scrape = meters.scrape();
      assertTrue(scrape.contains("meshwire_hub_store_fsync_seconds_bucket"), scrape);
      assertTrue(scrape.contains("meshwire_hub_store_batch_size_count"), scrape);
      assertTrue(scrape.contains("meshwire_hub_store_appended_bytes_total " + 5.0 * RECORD), scrape);
      assertTrue(scrape.contains("meshwire_hub_store_segments 1.0"), scrape);
      assertTrue(scrape.contains("meshwire_hub_store_write_errors_total 0.0"), scrape);
    }
    assertTrue(meters.getMeters().isEmpty(), "close() removes the store's meters");
  }

  @Test
  void optionsNameTheBadSetting() {
    FileLogStore.Options defaults = FileLogStore.Options.defaults();
    assertEquals(64L << 20, defaults.maxSegmentBytes());
    assertEquals(4 << 20, defaults.maxEntryBytes());
    assertEquals(Duration.ZERO, defaults.maxBatchDelay());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> defaults.withMaxSegmentBytes(0))
        .getMessage().startsWith("maxSegmentBytes"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> defaults.withMaxEntryBytes(0))
        .getMessage().startsWith("maxEntryBytes"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> defaults.withMaxBatchDelay(Duration.ofMillis(-1)))
        .getMessage().startsWith("maxBatchDelay"));
  }
}
