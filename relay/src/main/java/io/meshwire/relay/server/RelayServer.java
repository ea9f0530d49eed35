package io.meshwire.relay.server;

import io.meshwire.certs.CertificateRejectedException;
import io.meshwire.certs.SpiffeId;
import io.meshwire.relay.RelayTransport;
import io.meshwire.relay.wire.FrameException;
import io.meshwire.relay.wire.RelayDatagram;
import io.meshwire.relay.wire.RelayFrameDecoder;
import io.meshwire.relay.wire.RelayFrames;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RelayServer} forwards WireGuard datagrams between clusters connected to it over TLS
 * (see {@link RelayFrames}). A client is the cluster its certificate names; a datagram it sends to
 * cluster X goes out on X's connection to this relay, framed with the sender's ID. The relay holds
 * nothing worth persisting: routes are its open connections. It never answers a datagram: what it
 * cannot forward (no connection for the destination, the sender itself, a destination whose queue
 * is above {@link RelayConfig#highWater}) is dropped and counted.
 *
 * <p>Several relays: a cluster stays connected to its home relay, and a sender reaches a peer
 * through the peer's home relay (relays never forward to each other). When a cluster has two
 * connections here (a reconnect racing the old one), the newest receives.
 *
 * <p>Writes to a destination are batched: queued while the sender's read burst lasts, flushed at
 * its end. A revoked cluster's connections are closed at the next revocation sweep. Thread-safe:
 * per-connection state lives on that connection's event loop; the route map is concurrent.
 */
public final class RelayServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RelayServer.class);
  private static final AttributeKey<Client> CLIENT = AttributeKey.valueOf("meshwire.relay.client");

  /** An authenticated connection: who it is and the certificate it proved it with. */
  private record Client(String cluster, X509Certificate certificate) {}

  private final RelayConfig config;
  private final EventLoopGroup group;
  private final Channel listener;
  private final Map<String, Channel> routes = new ConcurrentHashMap<>();
  private final Map<Channel, Client> authenticated = new ConcurrentHashMap<>();
  private final RelayMetrics metrics;
  private final RevocationCheck revocations;
  private final ScheduledFuture<?> sweep;

  private RelayServer(RelayConfig config, SslContext tls, RevocationCheck revocations, MeterRegistry meters)
      throws InterruptedException {
    this.config = config;
    this.revocations = revocations;
    this.metrics = new RelayMetrics(meters, authenticated::size);
    RelayTransport transport = RelayTransport.current();
    this.group = new MultiThreadIoEventLoopGroup(config.threads(), new DefaultThreadFactory("relay", true),
        transport.handlers());
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(transport.server())
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(config.highWater() / 2, config.highWater()));
    if (config.socketBuffer() > 0) {
      bootstrap.option(ChannelOption.SO_RCVBUF, config.socketBuffer())
          .childOption(ChannelOption.SO_SNDBUF, config.socketBuffer())
          .childOption(ChannelOption.SO_RCVBUF, config.socketBuffer());
    }
    transport.tcpOptions(bootstrap::childOption);
    bootstrap
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()))
                .addLast("frames", new RelayFrameDecoder(config.maxDatagram()))
                .addLast("forward", new Forwarder());
          }
        });
    try {
      this.listener = bootstrap.bind(new InetSocketAddress(config.listen().host(), config.listen().port()))
          .sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
    long sweepMillis = config.revocationSweep().toMillis();
    this.sweep = group.next().scheduleWithFixedDelay(this::sweepRevoked, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Starts a relay listening on {@code config.listen()}; returns once it listens.
   *
   * @param tls from {@code RelayTls.server}
   * @throws IllegalStateException naming the address when it cannot bind
   */
  public static RelayServer start(RelayConfig config, SslContext tls, RevocationCheck revocations, MeterRegistry meters) {
    try {
      RelayServer server = new RelayServer(config, tls, revocations, meters);
      log.info("relay started listen={}:{} max_datagram={} socket_buffer={} transport={}", config.listen().host(),
          server.port(), config.maxDatagram(), config.socketBuffer(), RelayTransport.current().name().toLowerCase());
      return server;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("relay listen " + config.listen() + ": interrupted while binding", e);
    } catch (RuntimeException e) {
      throw new IllegalStateException("relay listen " + config.listen() + ": " + e.getMessage(), e);
    }
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Clusters with a connection here now. */
  public List<String> connectedClusters() {
    return routes.keySet().stream().sorted().toList();
  }

  private void sweepRevoked() {
    try {
      revocations.refresh();
      authenticated.forEach((channel, client) -> {
        if (revocations.isRevoked(client.certificate())) {
          disconnect(channel, "revoked", "certificate revoked");
        }
      });
    } catch (RuntimeException e) {
      log.warn("event=revocation_sweep_failed error=\"{}\"", e.toString());
    }
  }

  private void disconnect(Channel channel, String reason, String detail) {
    Client client = channel.attr(CLIENT).get();
    // Count once: the first reason that closes an authenticated connection wins.
    if (client != null && authenticated.remove(channel) != null) {
      routes.remove(client.cluster(), channel);
      metrics.disconnect(reason).increment();
      log.info("event=relay_client_disconnected cluster={} remote={} reason={} detail=\"{}\"", client.cluster(),
          channel.remoteAddress(), reason, detail);
    } else if (client == null) {
      log.info("event=relay_connection_refused remote={} reason={} detail=\"{}\"", channel.remoteAddress(), reason,
          detail);
    }
    channel.close();
  }

  /** Per connection, on its event loop. */
  private final class Forwarder extends ChannelInboundHandlerAdapter {
    /**
     * Frames for each destination during the current read burst, handed over at its end: one write
     * burst and one flush per destination, and one task per burst (not per datagram) when the
     * destination lives on another event loop.
     */
    private final Map<Channel, List<ByteBuf>> burst = new java.util.LinkedHashMap<>(4);
    private byte[] self;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent done) {
        if (!done.isSuccess()) {
          metrics.handshake("failed").increment();
          log.info("event=relay_handshake_failed remote={} error=\"{}\"", ctx.channel().remoteAddress(),
              done.cause() == null ? "" : done.cause().getMessage());
          ctx.close();
          return;
        }
        authenticate(ctx);
      }
      super.userEventTriggered(ctx, evt);
    }

    private void authenticate(ChannelHandlerContext ctx) {
      Channel channel = ctx.channel();
      X509Certificate leaf;
      String cluster;
      String protocol = ctx.pipeline().get(SslHandler.class).applicationProtocol();
      if (!RelayFrames.ALPN.equals(protocol)) {
        metrics.handshake("failed").increment();
        disconnect(channel, "garbage", "client did not negotiate ALPN " + RelayFrames.ALPN + " (got " + protocol + ")");
        return;
      }
      try {
        Certificate[] chain = ctx.pipeline().get(SslHandler.class).engine().getSession().getPeerCertificates();
        leaf = (X509Certificate) chain[0];
        cluster = SpiffeId.of(leaf).name();
      } catch (SSLPeerUnverifiedException | CertificateRejectedException | RuntimeException e) {
        metrics.handshake("failed").increment();
        disconnect(channel, "error", "no usable client certificate: " + e.getMessage());
        return;
      }
      if (revocations.isRevoked(leaf)) {
        metrics.handshake("revoked").increment();
        disconnect(channel, "revoked", "certificate revoked");
        return;
      }
      metrics.handshake("ok").increment();
      self = RelayFrames.id(cluster);
      channel.attr(CLIENT).set(new Client(cluster, leaf));
      authenticated.put(channel, new Client(cluster, leaf));
      routes.put(cluster, channel);
      channel.closeFuture().addListener((ChannelFutureListener) f -> disconnect(f.channel(), "closed", "connection closed"));
      log.info("event=relay_client_connected cluster={} remote={}", cluster, channel.remoteAddress());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof RelayDatagram datagram)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      try {
        forward(ctx, datagram);
      } finally {
        datagram.release();
      }
    }

    private void forward(ChannelHandlerContext ctx, RelayDatagram datagram) {
      if (self == null) {
        return; // cannot happen: frames are decoded only after the handshake event
      }
      Client me = ctx.channel().attr(CLIENT).get();
      if (datagram.cluster().equals(me.cluster())) {
        metrics.dropped("self").increment();
        return;
      }
      Channel destination = routes.get(datagram.cluster());
      if (destination == null || !destination.isActive()) {
        metrics.dropped("no_route").increment();
        return;
      }
      if (!destination.isWritable()) {
        metrics.dropped("congested").increment();
        return;
      }
      ByteBuf payload = datagram.payload();
      int bytes = payload.readableBytes();
      burst.computeIfAbsent(destination, d -> new ArrayList<>()).add(RelayFrames.data(destination.alloc(), self, payload));
      metrics.forwardedDatagrams.increment();
      metrics.forwardedBytes.increment(bytes);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      burst.forEach((destination, frames) -> {
        if (destination.eventLoop().inEventLoop()) {
          writeAll(destination, frames);
        } else {
          destination.eventLoop().execute(() -> writeAll(destination, frames));
        }
      });
      burst.clear();
      ctx.fireChannelReadComplete();
    }

    private static void writeAll(Channel destination, List<ByteBuf> frames) {
      for (ByteBuf frame : frames) {
        destination.write(frame, destination.voidPromise()); // released by the channel, also when closed
      }
      destination.flush();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      burst.values().forEach(frames -> frames.forEach(ByteBuf::release));
      burst.clear();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Throwable root = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
          && !(cause instanceof FrameException) ? cause.getCause() : cause;
      if (root instanceof FrameException frame) {
        disconnect(ctx.channel(), frame.kind(), frame.getMessage());
      } else {
        disconnect(ctx.channel(), "error", String.valueOf(root.getMessage()));
      }
    }
  }

  /** Closes every connection and the listener; waits up to 5 s. */
  @Override
  public void close() {
    sweep.cancel(false);
    listener.close().syncUninterruptibly();
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    log.info("relay stopped listen={}", config.listen());
  }
}
