package io.meshwire.hub.api;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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

  /**
   * Lets the transport size the frame, and copy the bytes into it in one write ({@link Drainable}):
   * without it gRPC copies through a fresh 8 KiB buffer per message, which was 85 % of the bytes
   * the hub allocated while fanning a change out to 1,000 watchers (JFR, load-tests/README.md).
   */
  static final class KnownLengthStream extends ByteArrayInputStream implements KnownLength, Drainable {
    KnownLengthStream(byte[] bytes) {
      super(bytes);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
