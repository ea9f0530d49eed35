package io.meshwire.hub.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class PreEncodedMarshallerTest {

  @Test
  void anEncodedEventDrainsToTheTransportWholeInOneWriteAndIsThenExhausted() throws IOException {
    byte[] event = {8, 42, 18, 3, 'a', 'b', 'c'};
    InputStream stream = PreEncodedMarshaller.INSTANCE.stream(event);
    assertInstanceOf(KnownLength.class, stream);
    assertEquals(event.length, stream.available());

    int[] writes = {0};
    ByteArrayOutputStream target = new ByteArrayOutputStream() {
      @Override
      public synchronized void write(byte[] b, int off, int len) {
        writes[0]++;
        super.write(b, off, len);
      }
    };
    int drained = assertInstanceOf(Drainable.class, stream).drainTo(target);

    assertEquals(event.length, drained);
    assertArrayEquals(event, target.toByteArray());
    assertEquals(1, writes[0]);
    assertEquals(0, stream.available());
    assertEquals(-1, stream.read());
  }

  @Test
  void aRequestParsesBackToTheSameBytes() {
    byte[] request = {10, 5, 'h', 'e', 'l', 'l', 'o'};
    assertArrayEquals(request, PreEncodedMarshaller.INSTANCE.parse(PreEncodedMarshaller.INSTANCE.stream(request)));
  }
}
