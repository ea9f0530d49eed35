package io.meshwire.hub.server;

import io.grpc.netty.NettyServerBuilder;
import io.meshwire.hub.api.ConnectionExecutor;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code HubTransport} is everything about how the hub's gRPC server moves bytes: the socket
 * transport (Linux native epoll when it loads, else NIO), the event loops, and the hook that lets
 * the Watch fan-out write each stream from its connection's own event loop. One place, so whoever
 * builds the server applies it with {@link #configure} and closes it after the server terminated.
 *
 * <p>Two JVM system properties override the defaults (for measurement and as an escape hatch):
 * {@code meshwire.hub.transport} = {@code epoll} | {@code io_uring} | {@code nio}, and {@code meshwire.hub.event-loops}
 * = the number of I/O threads (default: the number of processors). See load-tests/README.md for
 * what each choice measured.
 */
final class HubTransport implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HubTransport.class);
  static final String TRANSPORT_PROPERTY = "meshwire.hub.transport";
  static final String EVENT_LOOPS_PROPERTY = "meshwire.hub.event-loops";

  private final String name;
  private final Class<? extends ServerChannel> channelType;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  private HubTransport(String name, Class<? extends ServerChannel> channelType, IoHandlerFactory handlers,
      int eventLoops) {
    this.name = name;
    this.channelType = channelType;
    this.boss = new MultiThreadIoEventLoopGroup(1, threads("hub-accept"), handlers);
    this.workers = new MultiThreadIoEventLoopGroup(eventLoops, threads("hub-io"), handlers);
  }

  /** The transport the system properties ask for (default: epoll where available, NIO otherwise). */
  static HubTransport create() {
    String wanted = System.getProperty(TRANSPORT_PROPERTY, "auto").toLowerCase(Locale.ROOT);
    int loops = Integer.getInteger(EVENT_LOOPS_PROPERTY, Runtime.getRuntime().availableProcessors());
    if (loops < 1) {
      throw new IllegalArgumentException(EVENT_LOOPS_PROPERTY + ": must be >= 1, got " + loops);
    }
    if (wanted.equals("io_uring")) {
      // Only on request: at N = 1,000 it used 11 % less CPU per delivery than epoll (median of 3
      // alternating pairs) but had the longer fan-out tail and storm in 2 of them, and container
      // runtimes' default seccomp profiles refuse io_uring anyway (load-tests/README.md).
      IoUring.ensureAvailability();
      return new HubTransport("io_uring", IoUringServerSocketChannel.class, IoUringIoHandler.newFactory(), loops);
    }
    boolean epoll = switch (wanted) {
      case "auto" -> Epoll.isAvailable();
      case "epoll" -> {
        Epoll.ensureAvailability(); // an explicit choice that cannot be honoured stops the start
        yield true;
      }
      case "nio" -> false;
      default -> throw new IllegalArgumentException(TRANSPORT_PROPERTY + ": \"" + wanted
          + "\" is not epoll, io_uring, nio or auto");
    };
    if (!epoll && wanted.equals("auto")) {
      log.info("native epoll unavailable, using NIO reason=\"{}\"", String.valueOf(Epoll.unavailabilityCause()));
    }
    return epoll
        ? new HubTransport("epoll", EpollServerSocketChannel.class, EpollIoHandler.newFactory(), loops)
        : new HubTransport("nio", NioServerSocketChannel.class, NioIoHandler.newFactory(), loops);
  }

  /** Applies the transport settings to {@code builder}. */
  NettyServerBuilder configure(NettyServerBuilder builder) {
    return builder
        .channelType(channelType)
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        .addTransportFilter(ConnectionExecutor.transportFilter())
        .intercept(ConnectionExecutor.interceptor());
  }

  /** For the start log line, e.g. {@code epoll/2}. */
  String describe() {
    return name + "/" + ((MultiThreadIoEventLoopGroup) workers).executorCount();
  }

  /** Stops the event loops; call once the server has terminated. */
  @Override
  public void close() {
    boss.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 5, TimeUnit.SECONDS);
  }

  private static ThreadFactory threads(String prefix) {
    return new DefaultThreadFactory(prefix, true); // FastThreadLocal threads: the allocator caches per thread
  }
}
