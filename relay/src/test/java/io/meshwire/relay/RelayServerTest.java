package io.meshwire.relay;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.RevocationList;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.netaddr.HostPort;
import io.meshwire.relay.client.RelayClient;
import io.meshwire.relay.server.RelayConfig;
import io.meshwire.relay.server.RelayServer;
import io.meshwire.relay.server.RevocationCheck;
import io.meshwire.relay.wire.RelayFrames;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay and its client over real TLS on 127.0.0.1. */
class RelayServerTest {

  private final RelayTestPki pki = new RelayTestPki();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final EventLoopGroup clientLoops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final List<AutoCloseable> closing = new ArrayList<>();
  @TempDir Path dir;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
    clientLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private RelayServer relay(RevocationCheck revocations) {
    RelayServer server = RelayServer.start(RelayConfig.defaults(new HostPort("127.0.0.1", 0)),
        RelayTls.server(pki.relay("relay-1"), InstantSource.system()), revocations, meters);
    closing.add(server);
    return server;
  }

  /** Received datagrams as "source:text". */
  private record Inbox(BlockingQueue<String> datagrams, BlockingQueue<Boolean> connections)
      implements RelayClient.Listener {
    Inbox() {
      this(new LinkedBlockingQueue<>(), new LinkedBlockingQueue<>());
    }

    @Override
    public void onDatagram(String source, ByteBuf payload) {
      datagrams.add(source + ":" + payload.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void onConnected(boolean connected) {
      connections.add(connected);
    }
  }

  private RelayClient client(RelayServer server, RenewableKeyManager keys, Inbox inbox) {
    RelayClient c = new RelayClient(new HostPort("127.0.0.1", server.port()), RelayTls.client(keys, InstantSource.system()),
        clientLoops.next(), inbox, 1 << 20, Duration.ofSeconds(1)).start();
    closing.add(c);
    return c;
  }

  private static void send(RelayClient from, String to, String text) {
    from.write(RelayFrames.id(to), Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    from.flush();
  }

  private double counter(String name, String... tags) {
    var c = meters.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void forwardsDatagramsBetweenClustersNamedByTheirCertificates() throws Exception {
    RelayServer server = relay(RevocationCheck.NONE);
    Inbox a = new Inbox();
    Inbox b = new Inbox();
    RelayClient ca = client(server, pki.cluster("a"), a);
    RelayClient cb = client(server, pki.cluster("b"), b);
    await().atMost(Duration.ofSeconds(10)).until(() -> server.connectedClusters().equals(List.of("a", "b")));

    send(ca, "b", "hello b");
    send(cb, "a", "hello a");

    assertEquals("a:hello b", b.datagrams().poll(5, TimeUnit.SECONDS));
    assertEquals("b:hello a", a.datagrams().poll(5, TimeUnit.SECONDS));
    assertEquals(2, counter("meshwire.relay.forwarded.datagrams"));
    assertEquals(14, counter("meshwire.relay.forwarded.bytes"));
  }

  @Test
  void keepsOrderAndContentOfABurstOfFullSizeDatagrams() throws Exception {
    RelayServer server = relay(RevocationCheck.NONE);
    Inbox b = new Inbox();
    List<byte[]> received = new ArrayList<>();
    CompletableFuture<Void> all = new CompletableFuture<>();
    int count = 600; // 852 KB at once: within the relay's 1 MiB queue for b, however late b reads
    RelayClient ca = client(server, pki.cluster("a"), new Inbox());
    RelayClient cb = new RelayClient(new HostPort("127.0.0.1", server.port()),
        RelayTls.client(pki.cluster("b"), InstantSource.system()), clientLoops.next(), new RelayClient.Listener() {
          @Override
          public void onDatagram(String source, ByteBuf payload) {
            received.add(ByteBufUtil.getBytes(payload));
            if (received.size() == count) {
              all.complete(null);
            }
          }
        }, 4 << 20, Duration.ofSeconds(1)).start();
    closing.add(cb);
    await().atMost(Duration.ofSeconds(10)).until(() -> server.connectedClusters().size() == 2 && ca.connected());

    byte[] datagram = new byte[1420];
    clientLoops.next().submit(() -> {
      for (int i = 0; i < count; i++) {
        datagram[0] = (byte) i;
        datagram[1] = (byte) (i >> 8);
        assertTrue(ca.write(RelayFrames.id("b"), Unpooled.wrappedBuffer(datagram)));
        if (i % 64 == 63) {
          ca.flush();
        }
      }
      ca.flush();
    }).sync();

    all.get(20, TimeUnit.SECONDS);
    for (int i = 0; i < count; i++) {
      byte[] got = received.get(i);
      assertEquals(1420, got.length);
      assertEquals(i, (got[0] & 0xff) | (got[1] & 0xff) << 8, "datagram " + i + " out of order");
    }
    assertEquals(0, counter("meshwire.relay.dropped.datagrams", "reason", "congested"));
    assertTrue(b.datagrams().isEmpty());
  }

  @Test
  void dropsAndCountsDatagramsForUnknownClustersAndForTheSenderItself() throws Exception {
    RelayServer server = relay(RevocationCheck.NONE);
    Inbox a = new Inbox();
    Inbox b = new Inbox();
    RelayClient ca = client(server, pki.cluster("a"), a);
    client(server, pki.cluster("b"), b);
    await().atMost(Duration.ofSeconds(10)).until(() -> server.connectedClusters().size() == 2);

    send(ca, "nobody", "lost");
    send(ca, "a", "echo?");
    send(ca, "b", "marker");

    assertEquals("a:marker", b.datagrams().poll(5, TimeUnit.SECONDS));
    assertEquals(1, counter("meshwire.relay.dropped.datagrams", "reason", "no_route"));
    assertEquals(1, counter("meshwire.relay.dropped.datagrams", "reason", "self"));
    assertTrue(a.datagrams().isEmpty(), "nothing is echoed to the sender");
  }

  @Test
  void refusesAClientWithoutAClusterCertificate() throws Exception {
    RelayServer server = relay(RevocationCheck.NONE);
    Inbox hub = new Inbox();
    client(server, pki.keys(Role.ADMIN, "ops"), hub);

    await().atMost(Duration.ofSeconds(10)).until(() -> counter("meshwire.relay.handshakes", "result", "failed") >= 1);
    assertTrue(server.connectedClusters().isEmpty());
  }

  @Test
  void closesARevokedClustersConnectionWithinTwoSecondsOfTheHubWritingTheList() throws Exception {
    Path file = dir.resolve("revocations.json");
    RelayServer server = relay(RevocationCheck.file(file));
    Inbox a = new Inbox();
    Inbox b = new Inbox();
    client(server, pki.cluster("a"), a);
    client(server, pki.cluster("b"), b);
    await().atMost(Duration.ofSeconds(10)).until(() -> server.connectedClusters().size() == 2);
    assertEquals(Boolean.TRUE, a.connections().poll(5, TimeUnit.SECONDS));

    // What the hub does on `meshwire revoke a`: append to its list file.
    long start = System.nanoTime();
    RevocationList.open(file).revoke(new SpiffeId("test", Role.CLUSTER, "a"), Instant.now(), "test");
    assertEquals(Boolean.FALSE, a.connections().poll(2, TimeUnit.SECONDS), "a's connection not closed within 2 s");
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 2_000, "closed after " + millis + " ms");
    assertEquals(1, counter("meshwire.relay.disconnects", "reason", "revoked"));
    // It reconnects, and is refused at the handshake from now on.
    await().atMost(Duration.ofSeconds(10)).until(() -> counter("meshwire.relay.handshakes", "result", "revoked") >= 1);
    assertEquals(List.of("b"), server.connectedClusters());
    // Refused connections back off like failed ones (at least 200 ms, doubling): the next two
    // refusals take at least 400 ms, where reconnecting at once would take a few milliseconds each.
    double refused = counter("meshwire.relay.handshakes", "result", "revoked");
    long waitStart = System.nanoTime();
    await().atMost(Duration.ofSeconds(10)).until(
        () -> counter("meshwire.relay.handshakes", "result", "revoked") >= refused + 2);
    long twoRefusalsMillis = (System.nanoTime() - waitStart) / 1_000_000;
    assertTrue(twoRefusalsMillis >= 400, "a revoked client reconnected twice in " + twoRefusalsMillis + " ms");
  }

  /** A TLS client that writes raw bytes once the handshake is done. */
  private Channel rawClient(RelayServer server, String cluster, ByteBuf raw) throws Exception {
    var tls = RelayTls.client(pki.cluster(cluster), InstantSource.system());
    Channel ch = new Bootstrap().group(clientLoops).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(tls.newHandler(ch.alloc())).addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
                  ctx.writeAndFlush(raw);
                }
              }
            });
          }
        }).connect("127.0.0.1", server.port()).sync().channel();
    closing.add(() -> ch.close().sync());
    return ch;
  }

  @Test
  void disconnectsAClientThatSendsAnOversizedFrame() throws Exception {
    RelayServer server = relay(RevocationCheck.NONE);
    ByteBuf frame = Unpooled.buffer().writeInt(RelayFrames.MAX_FRAME + 1).writeByte(RelayFrames.TYPE_DATA);
    Channel ch = rawClient(server, "a", frame);

    assertTrue(ch.closeFuture().await(10, TimeUnit.SECONDS), "oversized frame did not disconnect");
    await().atMost(Duration.ofSeconds(5)).until(() -> counter("meshwire.relay.disconnects", "reason", "oversized") == 1);
  }

  @Test
  void disconnectsAClientThatSendsAnUnknownFrameType() throws Exception {
    RelayServer server = relay(RevocationCheck.NONE);
    Inbox b = new Inbox();
    client(server, pki.cluster("b"), b);
    ByteBuf garbage = Unpooled.buffer().writeInt(8).writeByte(9).writeBytes("garbage".getBytes(StandardCharsets.US_ASCII));
    Channel ch = rawClient(server, "a", garbage);

    assertTrue(ch.closeFuture().await(10, TimeUnit.SECONDS), "garbage did not disconnect");
    await().atMost(Duration.ofSeconds(5)).until(() -> counter("meshwire.relay.disconnects", "reason", "garbage") == 1);
    assertTrue(b.datagrams().isEmpty());
  }

  @Test
  void framesWithABadClusterIdAreGarbage() throws Exception {
    RelayServer server = relay(RevocationCheck.NONE);
    byte[] id = "B_".getBytes(StandardCharsets.US_ASCII);
    ByteBuf frame = Unpooled.buffer().writeInt(2 + id.length + 1).writeByte(RelayFrames.TYPE_DATA)
        .writeByte(id.length).writeBytes(id).writeByte(0);
    Channel ch = rawClient(server, "a", frame);

    assertTrue(ch.closeFuture().await(10, TimeUnit.SECONDS));
    await().atMost(Duration.ofSeconds(5)).until(() -> counter("meshwire.relay.disconnects", "reason", "garbage") == 1);
  }
}
