package io.meshwire.relay.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code RelayFrameDecoder} turns the byte stream into {@link RelayDatagram}s and fails with a
 * {@link FrameException} at the first frame that breaks {@link RelayFrames}' rules: a length
 * above {@code maxDatagram} plus header ({@code oversized}, detected from the length field alone,
 * before buffering), an unknown type, a bad cluster ID or an empty datagram ({@code garbage}).
 * After a failure it discards everything. One per channel; runs on its event loop.
 */
public final class RelayFrameDecoder extends ByteToMessageDecoder {

  private final int maxFrame;
  private boolean failed;

  public RelayFrameDecoder(int maxDatagram) {
    if (maxDatagram < 1 || maxDatagram > RelayFrames.MAX_DATAGRAM) {
      throw new IllegalArgumentException("max datagram " + maxDatagram + ": must be 1.." + RelayFrames.MAX_DATAGRAM);
    }
    this.maxFrame = 2 + RelayFrames.MAX_ID + maxDatagram;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    while (in.readableBytes() >= 4) {
      int at = in.readerIndex();
      long length = in.getUnsignedInt(at);
      if (length > maxFrame) {
        throw fail("oversized", "frame of " + length + " bytes, limit " + maxFrame);
      }
      if (length < 3) {
        throw fail("garbage", "frame of " + length + " bytes, shorter than a header");
      }
      if (in.readableBytes() < 4 + length) {
        return;
      }
      byte type = in.getByte(at + 4);
      if (type != RelayFrames.TYPE_DATA) {
        throw fail("garbage", "unknown frame type " + (type & 0xff));
      }
      int idLen = in.getUnsignedByte(at + 5);
      int payloadLen = (int) length - 2 - idLen;
      if (idLen < 1 || idLen > RelayFrames.MAX_ID || payloadLen < 1) {
        throw fail("garbage", "frame with cluster id of " + idLen + " bytes and datagram of " + payloadLen + " bytes");
      }
      byte[] id = new byte[idLen];
      in.getBytes(at + 6, id);
      if (!RelayFrames.validId(id, 0, idLen)) {
        throw fail("garbage", "cluster id is not a DNS label");
      }
      in.skipBytes(6 + idLen);
      out.add(new RelayDatagram(new String(id, StandardCharsets.US_ASCII), in.readRetainedSlice(payloadLen)));
    }
  }

  private FrameException fail(String kind, String message) {
    failed = true;
    return new FrameException(kind, message);
  }
}
