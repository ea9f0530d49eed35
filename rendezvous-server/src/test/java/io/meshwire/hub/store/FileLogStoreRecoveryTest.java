package io.meshwire.hub.store;

import static io.meshwire.hub.store.StoreFixtures.RECORD;
import static io.meshwire.hub.store.StoreFixtures.appendAll;
import static io.meshwire.hub.store.StoreFixtures.assertRevisions;
import static io.meshwire.hub.store.StoreFixtures.open;
import static io.meshwire.hub.store.StoreFixtures.payload;
import static io.meshwire.hub.store.StoreFixtures.segment;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery of damaged stores, damaged by hand: torn tails are cut off and reported to the byte;
 * any other damage is an error naming the file and offset.
 */
class FileLogStoreRecoveryTest {

  @TempDir Path dir;

  @Test
  void garbageAfterTheLastRecordIsDroppedAsATornTail() throws Exception {
    writeEntries(1, 5);
    byte[] garbage = new byte[37];
    Arrays.fill(garbage, (byte) 0x5A);
    appendBytes(segment(dir, 1), garbage);

    assertTornTailDropped(37, 5, 5 * RECORD);
  }

  @Test
  void zeroFilledTailIsDroppedAsATornTail() throws Exception {
    writeEntries(1, 5);
    appendBytes(segment(dir, 1), new byte[4096]); // what a filesystem shows for unwritten blocks

    assertTornTailDropped(4096, 5, 5 * RECORD);
  }

  @Test
  void recordCutInItsPayloadIsDroppedAsATornTail() throws Exception {
    writeEntries(1, 5);
    truncate(segment(dir, 1), 5L * RECORD - 7);

    assertTornTailDropped(RECORD - 7, 4, 4 * RECORD);
  }

  @Test
  void recordCutInItsHeaderIsDroppedAsATornTail() throws Exception {
    writeEntries(1, 5);
    appendBytes(segment(dir, 1), Arrays.copyOf(LogRecord.encode(6, payload(6)), 10));

    Recovered recovered = assertTornTailDropped(10, 5, 5 * RECORD);
    assertTrue(recovered.report().detail().contains("incomplete header"), recovered.report().detail());
  }

  @Test
  void lastSegmentHoldingOnlyAPartialRecordIsEmptiedAndReused() throws Exception {
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxSegmentBytes(RECORD))) {
      appendAll(store, 1, 3);
    }
    truncate(segment(dir, 3), RECORD - 1);
    try (FileLogStore store = open(dir)) {
      assertEquals(RECORD - 1, store.recovered().report().bytesDroppedFromTornTail());
      assertRevisions(store.recovered().entries(), 1, 2);
      assertEquals(0, Files.size(segment(dir, 3)));
      appendAll(store, 3, 3);
    }
    try (FileLogStore store = open(dir)) {
      assertRevisions(store.recovered().entries(), 1, 3);
    }
  }

  @Test
  void damagedPayloadFollowedByValidRecordsIsAnErrorNamingFileAndOffset() throws Exception {
    writeEntries(1, 10);
    Path file = segment(dir, 1);
    long record5 = 4L * RECORD;
    flipByte(file, record5 + LogRecord.HEADER_BYTES + 3);

    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(file, e.file());
    assertEquals(record5, e.offset().orElseThrow());
    assertTrue(e.getMessage().startsWith(file + " at offset " + record5 + ": corrupt record (CRC mismatch"),
        e.getMessage());
    assertTrue(e.getMessage().contains("followed by a valid record at offset " + 5L * RECORD), e.getMessage());
    assertEquals(10L * RECORD, Files.size(file), "nothing is cut when the damage is not a torn tail");
  }

  @Test
  void damagedLengthFollowedByValidRecordsIsAnError() throws Exception {
    writeEntries(1, 10);
    Path file = segment(dir, 1);
    long record3 = 2L * RECORD;
    writeAt(file, record3 + 4, ByteBuffer.allocate(4).putInt(0, 1 << 20)); // claims 1 MiB: past the end

    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(record3, e.offset().orElseThrow());
    assertTrue(e.getMessage().contains("incomplete record"), e.getMessage());
  }

  @Test
  void damageInASegmentThatIsNotTheLastIsAnError() throws Exception {
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxSegmentBytes(3 * RECORD))) {
      appendAll(store, 1, 10);
    }
    Path file = segment(dir, 4);
    truncate(file, RECORD + 14); // record 5 cut: in the last segment this would be a torn tail

    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(file, e.file());
    assertEquals(RECORD, e.offset().orElseThrow());
    assertTrue(e.getMessage().contains("not the last"), e.getMessage());
  }

  @Test
  void missingSegmentIsAnErrorNamingTheRevisionGap() throws Exception {
    try (FileLogStore store = open(dir, FileLogStore.Options.defaults().withMaxSegmentBytes(3 * RECORD))) {
      appendAll(store, 1, 10);
    }
    Files.delete(segment(dir, 4));

    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(segment(dir, 7), e.file());
    assertTrue(e.getMessage().contains("starts at revision 7 but the previous segment ends at revision 3"),
        e.getMessage());
  }

  @Test
  void validRecordWithAnOutOfSequenceRevisionIsAnError() throws Exception {
    writeEntries(1, 3);
    appendBytes(segment(dir, 1), LogRecord.encode(5, payload(5)));

    StoreException e = assertThrows(StoreException.class, () -> open(dir));
    assertEquals(3L * RECORD, e.offset().orElseThrow());
    assertTrue(e.getMessage().contains("revision 5 where 4 was expected"), e.getMessage());
  }

  private void writeEntries(long from, long to) throws Exception {
    try (FileLogStore store = open(dir)) {
      appendAll(store, from, to);
    }
  }

  /** Reopens, checks the torn tail was cut and reported, and that appends continue after it. */
  private Recovered assertTornTailDropped(long droppedBytes, long lastGood, long expectedSize) throws Exception {
    Recovered recovered;
    try (FileLogStore store = open(dir)) {
      recovered = store.recovered();
      assertEquals(droppedBytes, recovered.report().bytesDroppedFromTornTail());
      assertEquals(lastGood, recovered.report().entriesRecovered());
      assertRevisions(recovered.entries(), 1, lastGood);
      assertTrue(recovered.report().detail().contains("offset=" + expectedSize + " bytes=" + droppedBytes),
          recovered.report().detail());
      assertEquals(expectedSize, Files.size(segment(dir, 1)));
      appendAll(store, lastGood + 1, lastGood + 2);
    }
    try (FileLogStore store = open(dir)) {
      assertEquals(0, store.recovered().report().bytesDroppedFromTornTail());
      assertRevisions(store.recovered().entries(), 1, lastGood + 2);
    }
    return recovered;
  }

  private static void appendBytes(Path file, byte[] bytes) throws IOException {
    Files.write(file, bytes, StandardOpenOption.APPEND);
  }

  private static void truncate(Path file, long size) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(size);
    }
  }

  private static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, offset);
      one.put(0, (byte) (one.get(0) ^ 0x01));
      one.rewind();
      channel.write(one, offset);
    }
  }

  private static void writeAt(Path file, long offset, ByteBuffer bytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(bytes, offset);
    }
  }
}
