package io.meshwire.agent.path;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Direct probes between two agents' probe ports on 127.0.0.1. */
class DirectProberTest {

  private static InetSocketAddress loopback() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  @Test
  void aProbeIsAnsweredByThePeersProber() throws Exception {
    try (DirectProber a = DirectProber.start(loopback(), "a", InstantSource.system(), 100);
         DirectProber b = DirectProber.start(loopback(), "b", InstantSource.system(), 100)) {
      assertTrue(a.probe(b.localAddress(), Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS));
      assertTrue(b.probe(a.localAddress(), Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void aProbeToAPortNobodyAnswersFailsAtItsTimeout() throws Exception {
    try (DirectProber a = DirectProber.start(loopback(), "a", InstantSource.system(), 100);
         DatagramSocket silent = new DatagramSocket(loopback())) {
      long start = System.nanoTime();
      assertFalse(a.probe((InetSocketAddress) silent.getLocalSocketAddress(), Duration.ofMillis(300))
          .get(5, TimeUnit.SECONDS));
      assertTrue(System.nanoTime() - start >= Duration.ofMillis(300).toNanos());
    }
  }

  @Test
  void garbageAndUnsolicitedRepliesAreIgnoredAndRepliesAreRateLimited() throws Exception {
    try (DirectProber b = DirectProber.start(loopback(), "b", InstantSource.system(), 3);
         DatagramSocket attacker = new DatagramSocket(loopback())) {
      byte[] garbage = "GET / HTTP/1.1\r\n".getBytes();
      attacker.send(new DatagramPacket(garbage, garbage.length, b.localAddress()));
      byte[] reply = java.nio.ByteBuffer.allocate(14).put("MWP1".getBytes()).put((byte) 2).putLong(42).put((byte) 'x')
          .array();
      attacker.send(new DatagramPacket(reply, reply.length, b.localAddress()));
      await().atMost(Duration.ofSeconds(5)).until(() -> b.ignored() == 2);

      byte[] request = java.nio.ByteBuffer.allocate(14).put("MWP1".getBytes()).put((byte) 1).putLong(7).put((byte) 'x')
          .array();
      attacker.setSoTimeout(1_000);
      int answered = 0;
      for (int i = 0; i < 10; i++) {
        attacker.send(new DatagramPacket(request, request.length, b.localAddress()));
      }
      try {
        for (int i = 0; i < 10; i++) {
          attacker.receive(new DatagramPacket(new byte[128], 128));
          answered++;
        }
      } catch (java.net.SocketTimeoutException done) {
        // no more answers
      }
      assertTrue(answered >= 3 && answered <= 6, answered + " answers to 10 requests at 3 a second");
    }
  }
}
