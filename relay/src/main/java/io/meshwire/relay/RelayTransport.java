package io.meshwire.relay;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RelayTransport} is how the relay and the agent's bridge move bytes: Linux native epoll
 * when it loads (fewer copies and wake-ups per datagram than NIO, and several queued datagrams
 * leave in one {@code sendmmsg}), NIO otherwise. The JVM system property
 * {@code meshwire.relay.transport} = {@code epoll} | {@code nio} | {@code auto} (default) overrides
 * the choice, for measurement and as an escape hatch (see load-tests/README.md, {@code bench path}).
 * Event loop groups and channels must come from the same transport.
 */
public enum RelayTransport {
  EPOLL, NIO;

  private static final Logger log = LoggerFactory.getLogger(RelayTransport.class);
  public static final String PROPERTY = "meshwire.relay.transport";

  /** The transport the system property asks for (read once per call; cheap). */
  public static RelayTransport current() {
    String wanted = System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT);
    return switch (wanted) {
      case "auto" -> {
        if (Epoll.isAvailable()) {
          yield EPOLL;
        }
        log.debug("native epoll unavailable, relay transport NIO reason=\"{}\"", Epoll.unavailabilityCause());
        yield NIO;
      }
      case "epoll" -> {
        Epoll.ensureAvailability(); // an explicit choice that cannot be honoured stops the start
        yield EPOLL;
      }
      case "nio" -> NIO;
      default -> throw new IllegalArgumentException(PROPERTY + ": \"" + wanted + "\" is not epoll, nio or auto");
    };
  }

  /** The transport of {@code loop}'s I/O (a channel must match the loop it is registered on). */
  public static RelayTransport of(io.netty.channel.EventLoop loop) {
    return loop instanceof io.netty.channel.IoEventLoop io && io.isIoType(EpollIoHandler.class) ? EPOLL : NIO;
  }

  /**
   * Unsent bytes the kernel may hold per relay connection (TCP_NOTSENT_LOWAT, epoll only): what
   * cannot leave at once waits in the connection's own queue, whose limit drops datagrams as a
   * UDP path would, instead of seconds of WireGuard traffic queued in a socket buffer.
   */
  public static final long NOTSENT_LOWAT = 128 << 10;

  /** Applies the relay connections' TCP options of this transport to a bootstrap's option setter. */
  public void tcpOptions(java.util.function.BiConsumer<io.netty.channel.ChannelOption<Long>, Long> option) {
    if (this == EPOLL) {
      option.accept(io.netty.channel.epoll.EpollChannelOption.TCP_NOTSENT_LOWAT, NOTSENT_LOWAT);
    }
  }

  public IoHandlerFactory handlers() {
    return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
  }

  public Class<? extends SocketChannel> socket() {
    return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  public Class<? extends ServerChannel> server() {
    return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public Class<? extends DatagramChannel> datagram() {
    return this == EPOLL ? EpollDatagramChannel.class : NioDatagramChannel.class;
  }
}
