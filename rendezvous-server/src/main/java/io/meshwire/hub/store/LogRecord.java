package io.meshwire.hub.store;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * {@code LogRecord}: the on-disk framing of one log entry. Stateless; thread-safe.
 *
 * <pre>
 * offset  size  field (big-endian)
 *      0     4  magic and format version: "MWL" 0x01
 *      4     4  payload length in bytes (0 .. {@link #MAX_PAYLOAD_BYTES})
 *      8     8  revision
 *     16     4  CRC32C over the 8 revision bytes, then the payload
 *     20     n  payload (the entry's bytes)
 * </pre>
 */
final class LogRecord {

  static final int MAGIC = 0x4D574C01;
  static final int HEADER_BYTES = 20;
  /** Hard bound on a payload, whatever the options: a length above it is damage, not data. */
  static final int MAX_PAYLOAD_BYTES = 256 << 20;

  private LogRecord() {}

  static int crc(long revision, byte[] payload, int offset, int length) {
    CRC32C crc = new CRC32C();
    byte[] rev = new byte[Long.BYTES];
    for (int i = 0; i < Long.BYTES; i++) {
      rev[i] = (byte) (revision >>> (56 - 8 * i));
    }
    crc.update(rev, 0, rev.length);
    crc.update(payload, offset, length);
    return (int) crc.getValue();
  }

  /** The header for {@code payload} at {@code revision}, flipped for reading. */
  static ByteBuffer header(long revision, byte[] payload) {
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    header.putInt(MAGIC).putInt(payload.length).putLong(revision).putInt(crc(revision, payload, 0, payload.length));
    return header.flip();
  }

  /** The whole record, header and payload, as one array. */
  static byte[] encode(long revision, byte[] payload) {
    ByteBuffer record = ByteBuffer.allocate(HEADER_BYTES + payload.length);
    record.put(header(revision, payload)).put(payload);
    return record.array();
  }
}
