package io.meshwire.hub.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * {@code SegmentScanner}: reads one log segment at recovery and checks every record (magic,
 * length bounds, CRC, consecutive revisions). It does not change the file: deciding whether a bad
 * record is a torn tail or corruption is {@link Recovery}'s job. Not thread-safe: one instance per
 * scan, on the opening thread.
 */
final class SegmentScanner implements AutoCloseable {

  /** Where the scan stopped on a record it could not accept. */
  record BadRecord(long offset, String reason, long validRecordAfter) {}

  /**
   * @param lastRevision revision of the last good record, {@code firstRevision - 1} when none
   * @param validEnd offset just past the last good record
   * @param bad the first record that failed a check, or null when the file ends cleanly
   */
  record Result(long lastRevision, long validEnd, long fileSize, BadRecord bad) {}

  private static final int WINDOW_BYTES = 1 << 20;

  private final Path file;
  private final FileChannel channel;
  private final long size;
  private final ByteBuffer window = ByteBuffer.allocate(WINDOW_BYTES);
  private long windowStart;
  // The payload read by the last successful check(), handed to the sink without a second read.
  private byte[] lastPayload;

  private SegmentScanner(Path file) throws IOException {
    this.file = file;
    this.channel = FileChannel.open(file, StandardOpenOption.READ);
    this.size = channel.size();
    window.limit(0);
  }

  /**
   * Scans {@code file}, whose records must run consecutively from {@code firstRevision}, passing
   * every good entry above {@code keepAbove} to {@code sink}.
   *
   * @param searchAfterBad whether to look, past a bad record, for a valid record that would prove
   *     the damage is not a torn tail
   * @throws StoreException if the file cannot be read, or a record with a valid CRC carries a
   *     revision out of sequence (never a torn write)
   */
  static Result scan(Path file, long firstRevision, long keepAbove, Consumer<Entry> sink, boolean searchAfterBad)
      throws StoreException {
    try (SegmentScanner scanner = new SegmentScanner(file)) {
      return scanner.scan(firstRevision, keepAbove, sink, searchAfterBad);
    } catch (IOException e) {
      throw new StoreException(file, "cannot read log segment: " + e, e);
    }
  }

  private Result scan(long firstRevision, long keepAbove, Consumer<Entry> sink, boolean searchAfterBad)
      throws IOException, StoreException {
    long position = 0;
    long expected = firstRevision;
    while (position < size) {
      String problem = check(position);
      if (problem != null) {
        long after = searchAfterBad ? findValidRecord(position + 1) : -1;
        return new Result(expected - 1, position, size, new BadRecord(position, problem, after));
      }
      int length = readInt(position + 4);
      long revision = readLong(position + 8);
      if (revision != expected) {
        throw new StoreException(file, position, "record holds revision " + revision + " where " + expected
            + " was expected (revisions must be consecutive)");
      }
      if (revision > keepAbove) {
        sink.accept(new Entry(revision, lastPayload));
      }
      lastPayload = null;
      expected++;
      position += LogRecord.HEADER_BYTES + length;
    }
    return new Result(expected - 1, position, size, null);
  }

  /** Null when a whole, intact record starts at {@code position}; else what is wrong with it. */
  private String check(long position) throws IOException {
    long left = size - position;
    if (left < LogRecord.HEADER_BYTES) {
      return "incomplete header: " + left + " of " + LogRecord.HEADER_BYTES + " bytes";
    }
    int magic = readInt(position);
    if (magic != LogRecord.MAGIC) {
      return String.format("bad magic 0x%08x", magic);
    }
    int length = readInt(position + 4);
    if (length < 0 || length > LogRecord.MAX_PAYLOAD_BYTES) {
      return "payload length " + Integer.toUnsignedLong(length) + " out of bounds (max " + LogRecord.MAX_PAYLOAD_BYTES + ")";
    }
    if (left < LogRecord.HEADER_BYTES + (long) length) {
      return "incomplete record: " + left + " of " + (LogRecord.HEADER_BYTES + length) + " bytes";
    }
    long revision = readLong(position + 8);
    int crc = readInt(position + 16);
    byte[] payload = read(position + LogRecord.HEADER_BYTES, length);
    if (LogRecord.crc(revision, payload, 0, length) != crc) {
      return "CRC mismatch in record of " + length + " bytes";
    }
    lastPayload = payload;
    return null;
  }

  /** Offset of the first intact record starting at or after {@code from}, or -1. */
  private long findValidRecord(long from) throws IOException {
    for (long position = from; position + LogRecord.HEADER_BYTES <= size; position++) {
      if (readInt(position) == LogRecord.MAGIC && check(position) == null) {
        lastPayload = null;
        return position;
      }
    }
    return -1;
  }

  private int readInt(long position) throws IOException {
    fill(position, Integer.BYTES);
    return window.getInt((int) (position - windowStart));
  }

  private long readLong(long position) throws IOException {
    fill(position, Long.BYTES);
    return window.getLong((int) (position - windowStart));
  }

  private byte[] read(long position, int length) throws IOException {
    byte[] bytes = new byte[length];
    if (length <= WINDOW_BYTES) {
      fill(position, length);
      window.get((int) (position - windowStart), bytes);
    } else {
      ByteBuffer into = ByteBuffer.wrap(bytes);
      readAt(into, position);
    }
    return bytes;
  }

  /** Makes [position, position + length) readable in the window; the caller checked it is in the file. */
  private void fill(long position, int length) throws IOException {
    if (position >= windowStart && position + length <= windowStart + window.limit()) {
      return;
    }
    window.clear();
    window.limit((int) Math.min(WINDOW_BYTES, size - position));
    windowStart = position;
    readAt(window, position);
    window.position(0);
  }

  private void readAt(ByteBuffer into, long position) throws IOException {
    long at = position;
    while (into.hasRemaining()) {
      int n = channel.read(into, at);
      if (n < 0) {
        throw new IOException("unexpected end of file at offset " + at + " of " + file);
      }
      at += n;
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
