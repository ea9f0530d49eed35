package io.meshwire.relay.client;

import io.meshwire.netaddr.HostPort;
import io.meshwire.relay.RelayTransport;
import io.meshwire.relay.wire.RelayDatagram;
import io.meshwire.relay.wire.RelayFrameDecoder;
import io.meshwire.relay.wire.RelayFrames;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RelayClient} is one cluster's connection to one relay: it connects out over TLS, stays
 * connected (reconnecting with full-jitter back-off from 200 ms up to {@code maxBackoff}), sends
 * datagrams addressed to a peer cluster and hands received ones, with their source, to a
 * {@link Listener}. Sending while disconnected or while the connection's queue is above its high
 * water mark drops the datagram and counts it ({@link #dropped()}), as a UDP path would; the
 * listener hears writability changes so a sender can stop reading instead.
 *
 * <p>Threading: everything runs on one event loop (given at construction); {@link #write} and
 * {@link #flush} may be called from any thread but cost a task hop off that loop, so callers that
 * care (the UDP bridge) run on the same loop. The listener is called on that loop.
 */
public final class RelayClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RelayClient.class);

  /** Callbacks on the client's event loop. */
  public interface Listener {
    /** A datagram from {@code source}; {@code payload} is released after the call returns. */
    void onDatagram(String source, ByteBuf payload);

    /** Called after each read burst: a good time to flush what {@link #onDatagram} wrote. */
    default void onReadComplete() {}

    /** The connection can (again) take datagrams without dropping, or cannot. */
    default void onWritable(boolean writable) {}

    /** Connected (after the TLS handshake) or lost. */
    default void onConnected(boolean connected) {}
  }

  /** A connection that lasted this long reconnects at once when lost; a shorter one backs off. */
  static final Duration STABLE = Duration.ofSeconds(2);

  private final HostPort relay;
  private final SslContext tls;
  private final EventLoop loop;
  private final Listener listener;
  private final int queueLimit;
  private final Duration maxBackoff;
  private final AtomicLong dropped = new AtomicLong();
  /** Owned by {@link #loop}. */
  private Channel channel;
  private volatile boolean ready;
  private volatile boolean closed;
  /** Owned by {@link #loop}. */
  private int attempt;
  /** Owned by {@link #loop}: when the current connection's handshake completed. */
  private long connectedAt;
  /** Owned by {@link #loop}: datagrams sent and received, the idle check's evidence of use. */
  private long activity;

  /**
   * @param queueLimit bytes queued for the relay beyond which {@link #write} drops (and the
   *     listener hears "not writable"); below half of it, writable again
   */
  public RelayClient(HostPort relay, SslContext tls, EventLoop loop, Listener listener, int queueLimit,
      Duration maxBackoff) {
    this.relay = relay;
    this.tls = tls;
    this.loop = loop;
    this.listener = listener;
    this.queueLimit = queueLimit;
    this.maxBackoff = maxBackoff;
  }

  /** Starts connecting; returns at once. */
  public RelayClient start() {
    loop.execute(this::connect);
    return this;
  }

  public HostPort relay() {
    return relay;
  }

  /** Whether the TLS connection is up. */
  public boolean connected() {
    return ready;
  }

  /** Whether a write now would be queued (connected and below the high water mark), or not connected at all. */
  public boolean writable() {
    Channel c = channel;
    return !ready || c == null || c.isWritable();
  }

  /** Datagrams sent or received so far; read on the client's event loop. */
  long activity() {
    return activity;
  }

  /** Datagrams dropped because the connection was down or full. */
  public long dropped() {
    return dropped.get();
  }

  /**
   * Queues {@code datagram} (its readable bytes, copied) for {@code peer}; call {@link #flush}
   * after a burst. Returns false, counting a drop, when not connected or not writable. Does not
   * release {@code datagram}.
   */
  public boolean write(byte[] peer, ByteBuf datagram) {
    Channel c = channel;
    if (!ready || c == null || !c.isWritable()) {
      dropped.incrementAndGet();
      return false;
    }
    c.write(RelayFrames.data(c.alloc(), peer, datagram), c.voidPromise());
    activity++;
    return true;
  }

  public void flush() {
    Channel c = channel;
    if (c != null) {
      c.flush();
    }
  }

  private void connect() {
    if (closed) {
      return;
    }
    // Socket buffers are left to the kernel's TCP autotuning (not capped by net.core.*mem_max).
    RelayTransport transport = RelayTransport.of(loop);
    Bootstrap b = new Bootstrap()
        .group(loop)
        .channel(transport.socket())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(queueLimit / 2, queueLimit));
    transport.tcpOptions(b::option);
    ChannelFuture f = b
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), relay.host(), relay.port()))
                .addLast("frames", new RelayFrameDecoder(RelayFrames.MAX_DATAGRAM))
                .addLast("client", new Handler());
          }
        })
        .connect(relay.host(), relay.port());
    channel = f.channel();
    f.addListener(done -> {
      if (!done.isSuccess()) {
        log.debug("event=relay_connect_failed relay={} error=\"{}\"", relay, done.cause().getMessage());
      }
    });
    f.channel().closeFuture().addListener(done -> onClosed());
  }

  private void onClosed() {
    boolean was = ready;
    ready = false;
    if (was) {
      log.info("event=relay_disconnected relay={}", relay);
      listener.onConnected(false);
    }
    if (closed) {
      return;
    }
    // A connection the relay closes right after the handshake (a revoked certificate, a relay
    // shutting down) counts as a failed attempt: reconnecting at once would loop as fast as
    // handshakes complete.
    boolean lasted = was && System.nanoTime() - connectedAt >= STABLE.toNanos();
    attempt = lasted ? 0 : attempt + 1;
    long capMillis = Math.min(maxBackoff.toMillis(), 200L << Math.min(attempt, 16));
    long delay = lasted ? 0 : ThreadLocalRandom.current().nextLong(capMillis / 2, capMillis + 1);
    loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  private final class Handler extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent done) {
        if (done.isSuccess()) {
          ready = true;
          connectedAt = System.nanoTime();
          log.info("event=relay_connected relay={}", relay);
          listener.onConnected(true);
        } else {
          log.info("event=relay_handshake_failed relay={} error=\"{}\"", relay,
              done.cause() == null ? "" : done.cause().getMessage());
          ctx.close();
        }
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof RelayDatagram datagram) {
        activity++;
        try {
          listener.onDatagram(datagram.cluster(), datagram.payload());
        } finally {
          datagram.release();
        }
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      listener.onReadComplete();
      ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      listener.onWritable(ctx.channel().isWritable());
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.info("event=relay_connection_error relay={} error=\"{}\"", relay, cause.getMessage());
      ctx.close();
    }
  }

  /** Stops reconnecting and closes the connection. */
  @Override
  public void close() {
    closed = true;
    loop.execute(() -> {
      if (channel != null) {
        channel.close();
      }
    });
  }
}
