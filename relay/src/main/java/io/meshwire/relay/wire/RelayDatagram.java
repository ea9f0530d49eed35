package io.meshwire.relay.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/**
 * {@code RelayDatagram} is one decoded DATA frame: the cluster it names (destination when sent by
 * a client, source when sent by the relay) and the datagram, a slice of the frame that the
 * holder must release.
 */
public final class RelayDatagram extends AbstractReferenceCounted {

  private final String cluster;
  private final ByteBuf payload;

  public RelayDatagram(String cluster, ByteBuf payload) {
    this.cluster = cluster;
    this.payload = payload;
  }

  public String cluster() {
    return cluster;
  }

  public ByteBuf payload() {
    return payload;
  }

  @Override
  protected void deallocate() {
    payload.release();
  }

  @Override
  public ReferenceCounted touch(Object hint) {
    payload.touch(hint);
    return this;
  }
}
