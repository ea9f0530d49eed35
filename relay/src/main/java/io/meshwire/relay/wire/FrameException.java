package io.meshwire.relay.wire;

import io.netty.handler.codec.DecoderException;

/**
 * {@code FrameException}: a peer sent bytes that are not a valid frame (the reason says which
 * rule). The connection is closed: the stream cannot be resynchronised.
 */
public final class FrameException extends DecoderException {

  /** Short metric label: {@code oversized} or {@code garbage}. */
  private final String kind;

  public FrameException(String kind, String message) {
    super(message);
    this.kind = kind;
  }

  public String kind() {
    return kind;
  }
}
