package io.meshwire.agent.path;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code DirectProber} tests a relayed link's direct path without touching WireGuard: each agent
 * answers probes on its gateway's probe port (announced in its cluster record, {@code probe_port};
 * {@code --probe-port}, default WireGuard's listen port + 1, which is also what peers assume of an
 * agent that announces none), and sends a probe to a peer's probe port when path selection asks. WireGuard keeps sending to the relay meanwhile, so relayed traffic is
 * not disturbed, and a probe never makes WireGuard roam.
 *
 * <p>Wire format, one UDP datagram: {@code "MWP1"}, a kind byte (1 request, 2 reply), an 8-byte
 * nonce, then the sender's cluster ID. A reply echoes the nonce; only replies to an outstanding
 * nonce from the probed address count. Requests are answered at most {@code maxRepliesPerSecond}
 * times a second (a reply is no larger than the request: no amplification). The answer says only
 * that UDP gets through, not who is there: WireGuard's own handshake authenticates the path once
 * it is used.
 *
 * <p>Threading: one daemon thread receives; {@link #probe} may be called from any thread.
 */
public final class DirectProber implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DirectProber.class);
  private static final byte[] MAGIC = "MWP1".getBytes(StandardCharsets.US_ASCII);
  private static final byte REQUEST = 1;
  private static final byte REPLY = 2;
  private static final int MAX = 4 + 1 + 8 + 63;

  private record Outstanding(SocketAddress target, CompletableFuture<Boolean> answered) {}

  private final DatagramChannel channel;
  private final byte[] self;
  private final InstantSource clock;
  private final int maxRepliesPerSecond;
  private final Map<Long, Outstanding> outstanding = new ConcurrentHashMap<>();
  private final AtomicLong ignored = new AtomicLong();
  private final Thread receiver;
  /** Receiver thread only. */
  private long windowSecond;
  private int repliesThisSecond;

  private DirectProber(DatagramChannel channel, String self, InstantSource clock, int maxRepliesPerSecond) {
    this.channel = channel;
    this.self = self.getBytes(StandardCharsets.US_ASCII);
    this.clock = clock;
    this.maxRepliesPerSecond = maxRepliesPerSecond;
    this.receiver = Thread.ofPlatform().daemon().name("direct-prober").start(this::receive);
  }

  /**
   * Binds the probe port.
   *
   * @throws IOException naming the address when it cannot bind
   */
  public static DirectProber start(InetSocketAddress listen, String self, InstantSource clock, int maxRepliesPerSecond)
      throws IOException {
    DatagramChannel ch = DatagramChannel.open();
    try {
      ch.bind(listen);
    } catch (IOException e) {
      ch.close();
      throw new IOException("path probe port " + listen + ": " + e.getMessage(), e);
    }
    return new DirectProber(ch, self, clock, maxRepliesPerSecond);
  }

  public InetSocketAddress localAddress() throws IOException {
    return (InetSocketAddress) channel.getLocalAddress();
  }

  /** Datagrams that were not a valid probe or an expected reply. */
  public long ignored() {
    return ignored.get();
  }

  /** Sends one probe to {@code target}; completes true when answered within {@code timeout}, else false. */
  public CompletableFuture<Boolean> probe(InetSocketAddress target, Duration timeout) {
    long nonce = ThreadLocalRandom.current().nextLong();
    CompletableFuture<Boolean> answered = new CompletableFuture<>();
    outstanding.put(nonce, new Outstanding(target, answered));
    CompletableFuture<Boolean> result = answered.completeOnTimeout(false, timeout.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((ok, e) -> outstanding.remove(nonce));
    try {
      channel.send(packet(REQUEST, nonce), target);
    } catch (IOException e) {
      // Unreachable network, no route: the direct path does not work now; that is the answer.
      answered.complete(false);
    }
    return result;
  }

  private ByteBuffer packet(byte kind, long nonce) {
    ByteBuffer b = ByteBuffer.allocate(4 + 1 + 8 + self.length);
    b.put(MAGIC).put(kind).putLong(nonce).put(self).flip();
    return b;
  }

  private void receive() {
    ByteBuffer buf = ByteBuffer.allocate(MAX + 1);
    while (channel.isOpen()) {
      SocketAddress from;
      try {
        buf.clear();
        from = channel.receive(buf);
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        log.debug("event=probe_receive_failed error=\"{}\"", e.getMessage());
        continue;
      }
      buf.flip();
      if (buf.remaining() < 4 + 1 + 8 + 1 || buf.remaining() > MAX
          || buf.getInt(0) != ByteBuffer.wrap(MAGIC).getInt()) {
        ignored.incrementAndGet();
        continue;
      }
      byte kind = buf.get(4);
      long nonce = buf.getLong(5);
      if (kind == REQUEST) {
        answer(from, nonce);
      } else if (kind == REPLY) {
        Outstanding o = outstanding.get(nonce);
        if (o != null && o.target().equals(from)) {
          o.answered().complete(true);
        } else {
          ignored.incrementAndGet();
        }
      } else {
        ignored.incrementAndGet();
      }
    }
  }

  private void answer(SocketAddress to, long nonce) {
    long second = clock.millis() / 1000;
    if (second != windowSecond) {
      windowSecond = second;
      repliesThisSecond = 0;
    }
    if (++repliesThisSecond > maxRepliesPerSecond) {
      ignored.incrementAndGet();
      return;
    }
    try {
      channel.send(packet(REPLY, nonce), to);
    } catch (IOException e) {
      log.debug("event=probe_reply_failed to={} error=\"{}\"", to, e.getMessage());
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
    outstanding.values().forEach(o -> o.answered().complete(false));
  }
}
