package io.meshwire.hub.api;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code PreEncodedMarshaller} writes bytes that are already an encoded message, so the hub can
 * encode a change once and send the same bytes to every watcher, and {@link RequestGuard} can parse
 * requests itself. Stateless.
 */
public final class PreEncodedMarshaller implements MethodDescriptor.Marshaller<byte[]> {

  /** The one instance; also what tests use to send raw bytes as a request. */
  public static final PreEncodedMarshaller INSTANCE = new PreEncodedMarshaller();

  @Override
  public InputStream stream(byte[] value) {
    return new KnownLengthStream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lets the transport size the frame without copying. */
  private static final class KnownLengthStream extends ByteArrayInputStream implements KnownLength {
    KnownLengthStream(byte[] bytes) {
      super(bytes);
    }
  }
}
