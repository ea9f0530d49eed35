package io.meshwire.relay.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * {@code RelayFrames} is the relay's wire format (version 1, negotiated by the TLS ALPN name
 * {@value #ALPN}), one frame per WireGuard datagram:
 *
 * <pre>
 *   u32 length   bytes that follow (type .. end of datagram)
 *   u8  type     1 = DATA
 *   u8  idLen    1..63
 *   id           cluster ID, a DNS label: the destination from a client, the source to a client
 *   datagram     1..{@link #MAX_DATAGRAM} bytes, already encrypted by WireGuard
 * </pre>
 *
 * The relay reads the source from the sender's TLS certificate, never from a frame. Stateless.
 */
public final class RelayFrames {

  /** The TLS application protocol both ends must agree on. */
  public static final String ALPN = "meshwire-relay/1";
  public static final byte TYPE_DATA = 1;
  /** The largest UDP payload; WireGuard datagrams are MTU-sized, far below it. */
  public static final int MAX_DATAGRAM = 65_507;
  public static final int MAX_ID = 63;
  /** Length field value of the largest valid frame. */
  public static final int MAX_FRAME = 2 + MAX_ID + MAX_DATAGRAM;

  private RelayFrames() {}

  /** Writes one DATA frame for {@code cluster} carrying the readable bytes of {@code datagram}. */
  public static ByteBuf data(ByteBufAllocator alloc, byte[] cluster, ByteBuf datagram) {
    int length = 2 + cluster.length + datagram.readableBytes();
    ByteBuf out = alloc.ioBuffer(4 + length);
    out.writeInt(length).writeByte(TYPE_DATA).writeByte(cluster.length).writeBytes(cluster);
    out.writeBytes(datagram, datagram.readerIndex(), datagram.readableBytes());
    return out;
  }

  /** The ID as frame bytes, checked like a frame's. */
  public static byte[] id(String cluster) {
    byte[] bytes = cluster.getBytes(StandardCharsets.US_ASCII);
    if (!validId(bytes, 0, bytes.length)) {
      throw new IllegalArgumentException("cluster id \"" + cluster + "\": not a DNS label of 1 to 63 characters");
    }
    return bytes;
  }

  /** Whether {@code len} bytes at {@code at} form a DNS label (a-z, 0-9, '-' inside). */
  static boolean validId(byte[] b, int at, int len) {
    if (len < 1 || len > MAX_ID || b[at] == '-' || b[at + len - 1] == '-') {
      return false;
    }
    for (int i = at; i < at + len; i++) {
      byte c = b[i];
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    return true;
  }
}
