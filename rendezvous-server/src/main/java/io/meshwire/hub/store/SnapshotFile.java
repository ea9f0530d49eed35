package io.meshwire.hub.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code SnapshotFile}: reads and writes {@code snapshot-<revision>.snap}. Stateless;
 * thread-safe (callers serialize writes of one file).
 *
 * <pre>
 * offset  size  field (big-endian)
 *      0     4  magic and format version: "MWS" 0x01
 *      4     4  state length in bytes; the file is exactly 20 + length bytes
 *      8     8  revision (must match the file name)
 *     16     4  CRC32C over the 8 revision bytes, then the state
 *     20     n  state
 * </pre>
 */
final class SnapshotFile {

  static final int MAGIC = 0x4D575301;
  static final int HEADER_BYTES = 20;

  private SnapshotFile() {}

  static void write(Path file, long revision, byte[] state) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    header.putInt(MAGIC).putInt(state.length).putLong(revision).putInt(LogRecord.crc(revision, state, 0, state.length));
    StoreFiles.writeAtomically(file, header.flip(), ByteBuffer.wrap(state));
  }

  /** Reads and checks {@code file}, which its name says holds {@code revision}. */
  static Snapshot read(Path file, long revision) throws StoreException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size < HEADER_BYTES) {
        throw new StoreException(file, 0, "snapshot is " + size + " bytes, shorter than its " + HEADER_BYTES + "-byte header");
      }
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
      readFully(channel, header, 0);
      header.flip();
      int magic = header.getInt();
      int length = header.getInt();
      long stored = header.getLong();
      int crc = header.getInt();
      if (magic != MAGIC) {
        throw new StoreException(file, 0, String.format("bad snapshot magic 0x%08x, expected 0x%08x", magic, MAGIC));
      }
      if (length < 0 || HEADER_BYTES + (long) length != size) {
        throw new StoreException(file, 4, "snapshot length " + Integer.toUnsignedLong(length)
            + " does not match the file size " + size + " (header " + HEADER_BYTES + ")");
      }
      if (stored != revision) {
        throw new StoreException(file, 8, "snapshot holds revision " + stored + " but its name says " + revision);
      }
      byte[] state = new byte[length];
      readFully(channel, ByteBuffer.wrap(state), HEADER_BYTES);
      if (LogRecord.crc(revision, state, 0, length) != crc) {
        throw new StoreException(file, HEADER_BYTES, "snapshot CRC mismatch over " + length + " bytes of state");
      }
      return new Snapshot(revision, state);
    } catch (IOException e) {
      throw new StoreException(file, "cannot read snapshot: " + e, e);
    }
  }

  private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
    long at = position;
    while (into.hasRemaining()) {
      int n = channel.read(into, at);
      if (n < 0) {
        throw new IOException("unexpected end of file at offset " + at);
      }
      at += n;
    }
  }
}
