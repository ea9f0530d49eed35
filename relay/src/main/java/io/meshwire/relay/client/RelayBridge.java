package io.meshwire.relay.client;

import io.meshwire.netaddr.HostPort;
import io.meshwire.relay.RelayTransport;
import io.meshwire.relay.wire.RelayFrames;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RelayBridge} is the agent's side of the relay: for each relayed peer a local UDP socket
 * on 127.0.0.1 that WireGuard uses as the peer's endpoint. What WireGuard sends to that socket goes
 * to the peer through the peer's home relay ({@link HomeRelay}); what arrives from the peer
 * through any relay is sent from that socket to WireGuard's listen port, so WireGuard sees the
 * peer at the socket's address. The bridge stays connected to this cluster's own home relay, so
 * peers can reach it at any time; connections to other relays open on demand.
 *
 * <p>Datagrams that arrive from a peer with no open socket are dropped and counted; when the
 * agent accepts that peer ({@link #acceptFrom}), the arrival also opens its socket, so the next
 * datagram reaches WireGuard and WireGuard roams to the bridge: the peer relayed the link, and
 * this side follows (the agent decides, from WireGuard's endpoint). UDP sockets use large buffers
 * ({@code socketBuffer}): WireGuard sends bursts, and the default 208 KiB caps a relayed path far
 * below a direct one. A relay connection queues at most {@link #QUEUE_LIMIT} bytes; above it the
 * bridge keeps reading and drops (counted {@code congested}), as a full UDP path would, so
 * WireGuard's traffic sees loss within milliseconds instead of seconds of queueing (which made
 * the tunnelled TCP collapse).
 *
 * <p>Threading: one event loop runs every socket and relay connection of the bridge (no task hops
 * on the data path); public methods may be called from any thread and block briefly.
 */
public final class RelayBridge implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RelayBridge.class);
  /** Per relay connection: 1 MiB queued (8 ms at 1 Gbit/s), then datagrams are dropped as a full UDP path would. */
  static final int QUEUE_LIMIT = 1 << 20;

  private final String self;
  private final SslContext tls;
  private final InetSocketAddress wireGuard;
  private final int socketBuffer;
  private final Duration maxBackoff;
  private final Duration idleClose;
  private final RelayTransport transport;
  private final EventLoopGroup group;
  private final EventLoop loop;
  /** Owned by {@link #loop}. */
  private final Map<String, Channel> sockets = new HashMap<>();
  /** Owned by {@link #loop}. */
  private final Map<HostPort, RelayClient> clients = new HashMap<>();
  /** Owned by {@link #loop}. */
  private List<HostPort> relays = List.of();
  /** Owned by {@link #loop}: bumped whenever {@link #relays} or {@link #clients} change (sockets' cached routes). */
  private int routes;
  /** Owned by {@link #loop}: per peer-home client, {activity, since when unchanged, connected} at the last idle check. */
  private final Map<HostPort, long[]> idleSince = new HashMap<>();
  private final AtomicLong closedIdle = new AtomicLong();
  /** Owned by {@link #loop}: sockets written to during the current relay read burst. */
  private final List<Channel> unflushed = new ArrayList<>();
  private final AtomicLong droppedNoSocket = new AtomicLong();
  private final AtomicLong droppedNoRelay = new AtomicLong();
  private final AtomicLong droppedCongested = new AtomicLong();
  private final AtomicLong relayedOut = new AtomicLong();
  private final AtomicLong relayedIn = new AtomicLong();
  private volatile java.util.function.Predicate<String> acceptFrom = peer -> false;
  /** Owned by {@link #loop}: peers whose socket is being bound after a datagram arrived. */
  private final java.util.Set<String> opening = new java.util.HashSet<>();

  /**
   * @param self this cluster's ID
   * @param tls from {@code RelayTls.client}
   * @param wireGuard where WireGuard listens (127.0.0.1 and its listen port)
   * @param idleClose a connection to another cluster's home relay that carried no datagram for this
   *     long, and is the home of no open socket, is closed (this cluster's own home relay stays)
   */
  public RelayBridge(String self, SslContext tls, InetSocketAddress wireGuard, int socketBuffer, Duration maxBackoff,
      Duration idleClose) {
    if (idleClose.toMillis() < 1) {
      throw new IllegalArgumentException("relay idle close " + idleClose + ": must be at least 1 ms");
    }
    this.self = self;
    this.tls = tls;
    this.wireGuard = wireGuard;
    this.socketBuffer = socketBuffer;
    this.maxBackoff = maxBackoff;
    this.idleClose = idleClose;
    this.transport = RelayTransport.current();
    this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("bridge", true), transport.handlers());
    this.loop = group.next();
    long every = Math.clamp(idleClose.toMillis() / 4, 50, 30_000);
    loop.scheduleWithFixedDelay(this::closeIdle, every, every, TimeUnit.MILLISECONDS);
  }

  /** Connections to peers' home relays closed because they were idle (see the constructor). */
  public long closedIdle() {
    return closedIdle.get();
  }

  /** On the loop: closes connections to peers' home relays idle for {@link #idleClose}. */
  private void closeIdle() {
    long now = System.nanoTime();
    java.util.Optional<HostPort> own = HomeRelay.of(self, relays);
    java.util.Set<HostPort> serving = new java.util.HashSet<>();
    for (String peer : sockets.keySet()) {
      HomeRelay.of(peer, relays).ifPresent(serving::add);
    }
    clients.entrySet().removeIf(e -> {
      HostPort relay = e.getKey();
      if (own.filter(relay::equals).isPresent() || serving.contains(relay)) {
        idleSince.remove(relay);
        return false;
      }
      // Idle: no datagram and no change of connection state (a handshake that just completed is not idle time).
      long activity = e.getValue().activity();
      long connected = e.getValue().connected() ? 1 : 0;
      long[] seen = idleSince.get(relay);
      if (seen == null || seen[0] != activity || seen[2] != connected) {
        idleSince.put(relay, new long[] {activity, now, connected});
        return false;
      }
      if (now - seen[1] < idleClose.toNanos()) {
        return false;
      }
      idleSince.remove(relay);
      e.getValue().close();
      routes++;
      closedIdle.incrementAndGet();
      log.info("event=relay_idle_closed relay={} idle_s={}", relay, (now - seen[1]) / 1_000_000_000L);
      return true;
    });
    idleSince.keySet().retainAll(clients.keySet());
  }

  /** Counters for status and metrics. */
  public record Stats(long relayedOut, long relayedIn, long droppedNoSocket, long droppedNoRelay,
      long droppedCongested, boolean homeConnected) {}

  public Stats stats() {
    return new Stats(relayedOut.get(), relayedIn.get(), droppedNoSocket.get(), droppedNoRelay.get(),
        droppedCongested.get(),
        call(() -> {
          RelayClient home = HomeRelay.of(self, relays).map(clients::get).orElse(null);
          return home != null && home.connected();
        }));
  }

  /**
   * Sets the mesh's relays: connects to this cluster's home relay, closes connections to relays no
   * longer listed. Peers' homes follow the new list at once.
   */
  public void relays(List<HostPort> list) {
    call(() -> {
      relays = List.copyOf(list);
      routes++;
      HomeRelay.of(self, relays).ifPresent(this::client);
      clients.entrySet().removeIf(e -> {
        if (!relays.contains(e.getKey())) {
          e.getValue().close();
          return true;
        }
        return false;
      });
      return null;
    });
  }

  /** The home relay of {@code cluster} in the current list. */
  public java.util.Optional<HostPort> homeOf(String cluster) {
    return call(() -> HomeRelay.of(cluster, relays));
  }

  /**
   * Connects to {@code cluster}'s home relay if not connected yet, without opening a socket: the
   * agent does this as soon as a direct link looks unhealthy, so that the relay is ready when the
   * link has to move.
   */
  public void connectTo(String cluster) {
    call(() -> {
      HomeRelay.of(cluster, relays).ifPresent(this::client);
      return null;
    });
  }

  /** Whether a connection to {@code cluster}'s home relay is up. */
  public boolean canReach(String cluster) {
    return call(() -> HomeRelay.of(cluster, relays).map(clients::get).map(RelayClient::connected).orElse(false));
  }

  /**
   * Opens (or returns) the local socket for {@code peer}: the address to give WireGuard as the
   * peer's endpoint. Also connects to the peer's home relay.
   */
  public InetSocketAddress open(String peer) {
    byte[] peerId = RelayFrames.id(peer);
    if (loop.inEventLoop()) {
      throw new IllegalStateException("RelayBridge.open binds a socket: not on the bridge's event loop");
    }
    Channel existing = call(() -> {
      HomeRelay.of(peer, relays).ifPresent(this::client);
      return sockets.get(peer);
    });
    if (existing != null) {
      return (InetSocketAddress) existing.localAddress();
    }
    // Bound here, off the loop (binding waits for it); the loop then adopts it unless a racing open won.
    Channel ch = new Bootstrap().group(loop).channel(transport.datagram())
        .option(ChannelOption.SO_RCVBUF, socketBuffer)
        .option(ChannelOption.SO_SNDBUF, socketBuffer)
        .handler(new FromWireGuard(peer, peerId))
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).syncUninterruptibly().channel();
    checkBuffers(ch);
    Channel kept = call(() -> {
      Channel raced = sockets.putIfAbsent(peer, ch);
      if (raced != null) {
        ch.close();
        return raced;
      }
      log.info("event=relay_bridge_opened peer={} local={}", peer, ch.localAddress());
      return ch;
    });
    return (InetSocketAddress) kept.localAddress();
  }

  private final java.util.concurrent.atomic.AtomicBoolean bufferWarned = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Warns once when the kernel gave a socket less than {@code socketBuffer} (Linux caps SO_RCVBUF /
   * SO_SNDBUF at net.core.rmem_max / wmem_max, 208 KiB by default; it reports twice what it grants):
   * WireGuard's bursts then overflow it and a relayed path runs far below a direct one.
   */
  private void checkBuffers(Channel ch) {
    Integer rcv = ch.config().getOption(ChannelOption.SO_RCVBUF);
    Integer snd = ch.config().getOption(ChannelOption.SO_SNDBUF);
    if (rcv != null && snd != null && Math.min(rcv, snd) < socketBuffer && bufferWarned.compareAndSet(false, true)) {
      log.warn("event=relay_socket_buffer_capped wanted={} receive={} send={} (raise the sysctls net.core.rmem_max"
          + " and net.core.wmem_max to at least {} for full relayed throughput)", socketBuffer, rcv, snd, socketBuffer);
    }
  }

  /**
   * Which peers may open their socket by sending through a relay (the agent's current peers).
   * Others' datagrams are dropped and counted as before.
   */
  public void acceptFrom(java.util.function.Predicate<String> accept) {
    this.acceptFrom = java.util.Objects.requireNonNull(accept, "accept");
  }

  /** The local address of {@code peer}'s socket, if open. */
  public java.util.Optional<InetSocketAddress> socket(String peer) {
    return java.util.Optional.ofNullable(call(() -> sockets.get(peer)))
        .map(ch -> (InetSocketAddress) ch.localAddress());
  }

  /** Closes {@code peer}'s socket (its link went direct or the peer left). */
  public void close(String peer) {
    call(() -> {
      Channel ch = sockets.remove(peer);
      if (ch != null) {
        ch.close();
        log.info("event=relay_bridge_closed peer={}", peer);
      }
      return null;
    });
  }

  /** Binds {@code peer}'s socket from the loop without waiting (its datagram was dropped already). */
  private void openOnLoop(String peer) {
    new Bootstrap().group(loop).channel(transport.datagram())
        .option(ChannelOption.SO_RCVBUF, socketBuffer)
        .option(ChannelOption.SO_SNDBUF, socketBuffer)
        .handler(new FromWireGuard(peer, RelayFrames.id(peer)))
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).addListener(f -> {
          opening.remove(peer);
          Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
          if (!f.isSuccess()) {
            log.warn("event=relay_bridge_open_failed peer={} error=\"{}\"", peer, f.cause().getMessage());
          } else if (sockets.putIfAbsent(peer, ch) != null) {
            ch.close();
          } else {
            checkBuffers(ch);
            log.info("event=relay_bridge_opened peer={} local={} by=peer", peer, ch.localAddress());
          }
        });
  }

  private RelayClient client(HostPort relay) {
    RelayClient existing = clients.get(relay);
    if (existing != null) {
      return existing;
    }
    RelayClient created = new RelayClient(relay, tls, loop, new FromRelay(), QUEUE_LIMIT, maxBackoff).start();
    clients.put(relay, created);
    routes++;
    return created;
  }

  private <T> T call(java.util.concurrent.Callable<T> task) {
    if (loop.inEventLoop()) {
      try {
        return task.call();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    loop.execute(() -> {
      try {
        result.complete(task.call());
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    });
    return result.orTimeout(10, TimeUnit.SECONDS).join();
  }

  /** Datagrams WireGuard sends to one peer's socket: to the peer's home relay. */
  private final class FromWireGuard extends SimpleChannelInboundHandler<DatagramPacket> {
    private final String peer;
    private final byte[] peerId;
    private RelayClient pending;
    /** The peer's home relay connection as of {@link #routes} = {@link #viaRoutes} (no lookup per datagram). */
    private RelayClient via;
    private int viaRoutes = -1;

    FromWireGuard(String peer, byte[] peerId) {
      this.peer = peer;
      this.peerId = peerId;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      if (!packet.sender().equals(wireGuard)) {
        return; // only WireGuard may use the bridge; anything else on loopback is ignored
      }
      if (viaRoutes != routes) {
        via = HomeRelay.of(peer, relays).map(clients::get).orElse(null);
        viaRoutes = routes;
      }
      if (via == null) {
        droppedNoRelay.incrementAndGet();
        // WireGuard sends here (it roamed to this socket, the peer relays): connect to the peer's home.
        HomeRelay.of(peer, relays).ifPresent(RelayBridge.this::client);
        return;
      }
      if (via.write(peerId, packet.content())) {
        relayedOut.incrementAndGet();
        pending = via;
      } else if (via.connected()) {
        droppedCongested.incrementAndGet(); // the relay connection's queue is full: WireGuard's peers back off
      } else {
        droppedNoRelay.incrementAndGet();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (pending != null) {
        pending.flush();
        pending = null;
      }
      ctx.fireChannelReadComplete();
    }
  }

  /** Datagrams from any relay: to WireGuard from the source peer's socket. */
  private final class FromRelay implements RelayClient.Listener {
    @Override
    public void onDatagram(String source, ByteBuf payload) {
      Channel socket = sockets.get(source);
      if (socket == null) {
        droppedNoSocket.incrementAndGet();
        if (acceptFrom.test(source) && opening.add(source)) {
          openOnLoop(source);
        }
        return;
      }
      socket.write(new DatagramPacket(payload.retain(), wireGuard), socket.voidPromise());
      relayedIn.incrementAndGet();
      if (!unflushed.contains(socket)) {
        unflushed.add(socket);
      }
    }

    @Override
    public void onReadComplete() {
      for (Channel socket : unflushed) {
        socket.flush();
      }
      unflushed.clear();
    }

  }

  @Override
  public void close() {
    call(() -> {
      clients.values().forEach(RelayClient::close);
      sockets.values().forEach(Channel::close);
      return null;
    });
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
