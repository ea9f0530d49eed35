package io.meshwire.hub.store;

import static io.meshwire.hub.store.StoreFixtures.RECORD;
import static io.meshwire.hub.store.StoreFixtures.appendAll;
import static io.meshwire.hub.store.StoreFixtures.assertRevisions;
import static io.meshwire.hub.store.StoreFixtures.files;
import static io.meshwire.hub.store.StoreFixtures.open;
import static io.meshwire.hub.store.StoreFixtures.segment;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots, truncation of the log behind them, and their recovery. */
class FileLogStoreSnapshotTest {

  private static final FileLogStore.Options THREE_PER_SEGMENT =
      FileLogStore.Options.defaults().withMaxSegmentBytes(3 * RECORD);

  @TempDir Path dir;

  @Test
  void snapshotDropsCoveredSegmentsAndRecoveryReturnsSnapshotThenLaterEntries() throws Exception {
    byte[] state = "state at 15".getBytes(StandardCharsets.UTF_8);
    try (FileLogStore store = open(dir, THREE_PER_SEGMENT)) {
      appendAll(store, 1, 20); // segments 1, 4, 7, 10, 13, 16, 19
      store.snapshot(15, state);
      // 1..15 live in segments 1..13, all dropped; 16 keeps 16..18 and 19 is the writer's
      assertEquals(List.of(StoreFiles.segmentName(16), StoreFiles.segmentName(19)), files(dir, "log-*.seg"));
      assertEquals(List.of(StoreFiles.snapshotName(15)), files(dir, "snapshot-*"));
      appendAll(store, 21, 25);
    }
    try (FileLogStore store = open(dir, THREE_PER_SEGMENT)) {
      Recovered recovered = store.recovered();
      assertEquals(new Snapshot(15, state), recovered.snapshot());
      assertRevisions(recovered.entries(), 16, 25);
      assertEquals(25, recovered.lastRevision());
      appendAll(store, 26, 26);
    }
  }

  @Test
  void entriesAtOrBelowTheSnapshotInAKeptSegmentAreSkipped() throws Exception {
    try (FileLogStore store = open(dir)) { // one segment: nothing can be dropped
      appendAll(store, 1, 10);
      store.snapshot(7, new byte[] {7});
    }
    try (FileLogStore store = open(dir)) {
      assertEquals(7, store.recovered().snapshot().revision());
      assertRevisions(store.recovered().entries(), 8, 10);
    }
  }

  @Test
  void snapshotAtTheLastRevisionLeavesNoEntriesAndAppendsContinue() throws Exception {
    try (FileLogStore store = open(dir, THREE_PER_SEGMENT)) {
      appendAll(store, 1, 9);
      store.snapshot(9, new byte[] {9});
    }
    try (FileLogStore store = open(dir, THREE_PER_SEGMENT)) {
      assertEquals(List.of(), store.recovered().entries());
      assertEquals(9, store.recovered().lastRevision());
      appendAll(store, 10, 11);
    }
    try (FileLogStore store = open(dir, THREE_PER_SEGMENT)) {
      assertRevisions(store.recovered().entries(), 10, 11);
    }
  }

  @Test
  void newerSnapshotReplacesTheOlderOne() throws Exception {
    try (FileLogStore store = open(dir)) {
      appendAll(store, 1, 10);
      store.snapshot(4, new byte[] {4});
      store.snapshot(8, new byte[] {8});
      store.snapshot(8, new byte[] {8}); // the same revision again is allowed
      assertEquals(List.of(StoreFiles.snapshotName(8)), files(dir, "snapshot-*"));
    }
    try (FileLogStore store = open(dir)) {
      assertEquals(new Snapshot(8, new byte[] {8}), store.recovered().snapshot());
    }
  }

  @Test
  void snapshotBeyondTheDurableRevisionOrOlderThanTheStoredOneIsRejected() throws Exception {
    try (FileLogStore store = open(dir)) {
      appendAll(store, 1, 5);
      IllegalStateException beyond = assertThrows(IllegalStateException.class, () -> store.snapshot(6, new byte[0]));
      assertTrue(beyond.getMessage().contains("beyond the durable revision 5"), beyond.getMessage());
      store.snapshot(4, new byte[0]);
      assertThrows(IllegalStateException.class, () -> store.snapshot(3, new byte[0]));
      assertThrows(IllegalArgumentException.class, () -> store.snapshot(0, new byte[0]));
    }
  }

  @Test
  void truncationInterruptedByACrashIsCompletedAtOpen() throws Exception {
    Map<Path, byte[]> before = new HashMap<>();
    try (FileLogStore store = open(dir, THREE_PER_SEGMENT)) {
      appendAll(store, 1, 12);
      for (long first : new long[] {1, 4, 7}) {
        before.put(segment(dir, first), Files.readAllBytes(segment(dir, first)));
      }
      store.snapshot(9, new byte[] {9});
    }
    for (Map.Entry<Path, byte[]> e : before.entrySet()) { // as if the crash came before the deletes
      Files.write(e.getKey(), e.getValue());
    }
    Files.write(dir.resolve(StoreFiles.snapshotName(3)), new byte[] {1, 2, 3}); // an older, unreadable one
    Files.write(dir.resolve(StoreFiles.snapshotName(12) + ".tmp"), new byte[] {1}); // a half-written newer one

    try (FileLogStore store = open(dir, THREE_PER_SEGMENT)) {
      assertEquals(9, store.recovered().snapshot().revision());
      assertRevisions(store.recovered().entries(), 10, 12);
    }
    assertEquals(List.of(StoreFiles.segmentName(10)), files(dir, "log-*.seg"));
    assertEquals(List.of(StoreFiles.snapshotName(9)), files(dir, "snapshot-*"));
  }

  @Test
  void corruptSnapshotIsAnErrorNamingTheFile() throws Exception {
    try (FileLogStore store = open(dir)) {
      appendAll(store, 1, 5);
      store.snapshot(5, "state".getBytes(StandardCharsets.UTF_8));
    }
    Path file = dir.resolve(StoreFiles.snapshotName(5));
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(new byte[] {'X'}), SnapshotFile.HEADER_BYTES + 1);
    }

    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(file, e.file());
    assertTrue(e.getMessage().startsWith(file + " at offset 20: snapshot CRC mismatch"), e.getMessage());
  }

  @Test
  void truncatedSnapshotIsAnError() throws Exception {
    try (FileLogStore store = open(dir)) {
      appendAll(store, 1, 5);
      store.snapshot(5, new byte[100]);
    }
    Path file = dir.resolve(StoreFiles.snapshotName(5));
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(60);
    }

    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(file, e.file());
    assertTrue(e.getMessage().contains("does not match the file size 60"), e.getMessage());
  }
}
