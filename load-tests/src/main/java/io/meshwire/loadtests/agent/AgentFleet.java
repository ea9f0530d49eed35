package io.meshwire.loadtests.agent;

import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.SpiffeTrustManager;
import io.meshwire.loadtests.fanout.FanoutTracker;
import io.meshwire.netaddr.Backoff;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import javax.net.ssl.SSLException;

/**
 * {@code AgentFleet} is N {@link SimulatedAgent}s against one hub address: a certificate per agent
 * issued up front from the mesh CA, a TLS context and a {@code ManagedChannel} per agent, all
 * sharing a few Netty event loop threads and one timer for reconnects. It counts how many agents
 * are caught up on their current stream.
 *
 * <p>Thread-safety: thread-safe; the bench thread drives phases, agents report from event loops.
 */
public final class AgentFleet implements AutoCloseable {

  /** What all agents received so far, added up. */
  public record Totals(long bytes, long chunks, long snapshots, long changes, long changeBytes, long refusals,
      long streamErrors) {
    public Totals minus(Totals o) {
      return new Totals(bytes - o.bytes, chunks - o.chunks, snapshots - o.snapshots, changes - o.changes,
          changeBytes - o.changeBytes, refusals - o.refusals, streamErrors - o.streamErrors);
    }
  }

  private final List<SimulatedAgent> agents;
  private final EventLoopGroup group;
  private final ScheduledExecutorService timer;
  private final Backoff backoff;
  private final AtomicInteger caughtUp = new AtomicInteger();
  private final java.util.Map<String, java.util.concurrent.atomic.LongAdder> closes =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<String, java.util.concurrent.atomic.LongAdder> announceErrors =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final AtomicReference<FanoutTracker> tracker = new AtomicReference<>(new FanoutTracker(1, 0));
  private volatile boolean stopping;

  private AgentFleet(int count, EventLoopGroup group, Backoff backoff, List<ManagedChannel> channels) {
    this.group = group;
    this.backoff = backoff;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-agent-timer");
      t.setDaemon(true);
      return t;
    });
    List<SimulatedAgent> list = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      list.add(new SimulatedAgent(i, this, channels.get(i)));
    }
    this.agents = List.copyOf(list);
  }

  /**
   * Issues {@code count} cluster certificates from {@code ca} (in parallel) and builds one channel
   * per agent to {@code 127.0.0.1:port}. Nothing connects until the first call.
   *
   * @param eventLoopThreads Netty threads shared by every agent's connection
   */
  public static AgentFleet create(MeshCa ca, int port, int count, int eventLoopThreads, Backoff backoff) {
    return create(ca, List.of(port), count, eventLoopThreads, backoff);
  }

  /**
   * Like {@link #create(MeshCa, int, int, int, Backoff)} against several hub replicas: agent
   * {@code i} connects first to {@code ports[i % size]} and, when that replica is gone, to the
   * next one that answers (in the list's order, wrapping around).
   */
  public static AgentFleet create(MeshCa ca, List<Integer> ports, int count, int eventLoopThreads, Backoff backoff) {
    X509Certificate caCert = ca.certificate();
    SpiffeTrustManager trust = new SpiffeTrustManager(List.of(caCert), ca.mesh(), InstantSource.system(),
        id -> id.role() == Role.HUB, "a hub certificate");
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(eventLoopThreads, NioIoHandler.newFactory());
    ManagedChannel[] channels = new ManagedChannel[count];
    try {
      IntStream.range(0, count).parallel().forEach(i -> {
        IssuedCredential c = ca.issue(new SpiffeId(ca.mesh(), Role.CLUSTER, AgentRecords.clusterId(i)),
            Duration.ofDays(1));
        channels[i] = (ports.size() == 1
            ? NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", ports.get(0)))
            : NettyChannelBuilder.forTarget(HubAddressList.target(rotated(ports, i))))
            .sslContext(tls(trust, c))
            .eventLoopGroup(group)
            .channelType(NioSocketChannel.class)
            .directExecutor() // callbacks only count and timestamp: run them on the event loop
            .maxInboundMessageSize(16 << 20)
            .build();
      });
    } catch (RuntimeException e) {
      for (ManagedChannel ch : channels) {
        if (ch != null) {
          ch.shutdownNow();
        }
      }
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
    return new AgentFleet(count, group, backoff, List.of(channels));
  }

  /** {@code ports} starting at index {@code i % size}. */
  static List<Integer> rotated(List<Integer> ports, int i) {
    List<Integer> out = new ArrayList<>(ports.size());
    for (int k = 0; k < ports.size(); k++) {
      out.add(ports.get((i + k) % ports.size()));
    }
    return out;
  }

  /** A channel to the hub at {@code 127.0.0.1:port} with an admin certificate issued by {@code ca}. */
  public static ManagedChannel adminChannel(MeshCa ca, int port) {
    SpiffeTrustManager trust = new SpiffeTrustManager(List.of(ca.certificate()), ca.mesh(), InstantSource.system(),
        id -> id.role() == Role.HUB, "a hub certificate");
    IssuedCredential c = ca.issue(new SpiffeId(ca.mesh(), Role.ADMIN, "bench"), Duration.ofDays(1));
    return NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).sslContext(tls(trust, c)).build();
  }

  private static SslContext tls(SpiffeTrustManager trust, IssuedCredential c) {
    try {
      return GrpcSslContexts.forClient()
          .protocols("TLSv1.3")
          .sessionTimeout(io.meshwire.certs.tls.HubChannels.SESSION_LIFETIME.toSeconds()) // resumes as the agent does
          .trustManager(trust)
          .keyManager(new FixedKeyManager(c.privateKey(), c.certificate()))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("TLS context for " + c.certificate().getSubjectX500Principal() + ": "
          + e.getMessage(), e);
    }
  }

  public int size() {
    return agents.size();
  }

  public SimulatedAgent agent(int i) {
    return agents.get(i);
  }

  /**
   * Every agent announces its first record, at most {@code concurrency} at a time (each first call
   * also makes the TLS handshake).
   *
   * @return how many announces failed (0 is success)
   */
  public int announceAll(int concurrency, Duration within) {
    Semaphore inFlight = new Semaphore(concurrency);
    AtomicInteger failed = new AtomicInteger();
    List<CompletableFuture<Long>> all = new ArrayList<>(agents.size());
    long deadline = System.nanoTime() + within.toNanos();
    try {
      for (SimulatedAgent a : agents) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !inFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
          failed.addAndGet(agents.size() - all.size());
          break;
        }
        all.add(a.announce().whenComplete((rev, err) -> {
          inFlight.release();
          if (err != null) {
            failed.incrementAndGet();
          }
        }));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      // counted in `failed`
    } catch (java.util.concurrent.TimeoutException e) {
      return (int) all.stream().filter(f -> !f.isDone() || f.isCompletedExceptionally()).count()
          + (agents.size() - all.size());
    }
    return failed.get();
  }

  /** Every agent opens its Watch stream (resuming from what it has). */
  public void watchAll() {
    agents.forEach(SimulatedAgent::watch);
  }

  /** Waits until {@code target} agents are caught up on their current stream; false on timeout. */
  public boolean awaitCaughtUp(int target, Duration within) {
    return awaitCount(() -> caughtUp.get() >= target, within);
  }

  /** Waits until no agent is caught up (every stream broke); false on timeout. */
  public boolean awaitNoneCaughtUp(Duration within) {
    return awaitCount(() -> caughtUp.get() == 0, within);
  }

  private static boolean awaitCount(java.util.function.BooleanSupplier done, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    return true;
  }

  public int caughtUp() {
    return caughtUp.get();
  }

  /** When each agent last caught up (System.nanoTime), 0 for those not caught up now. */
  public long[] caughtUpTimes() {
    return agents.stream().mapToLong(a -> a.caughtUp() ? a.caughtUpAtNanos() : 0).toArray();
  }

  public Totals totals() {
    long bytes = 0;
    long chunks = 0;
    long snapshots = 0;
    long changes = 0;
    long changeBytes = 0;
    long refusals = 0;
    long errors = 0;
    for (SimulatedAgent a : agents) {
      bytes += a.bytes.get();
      chunks += a.chunks.get();
      snapshots += a.snapshots.get();
      changes += a.changes.get();
      changeBytes += a.changeBytes.get();
      refusals += a.refusals.get();
      errors += a.streamErrors.get();
    }
    return new Totals(bytes, chunks, snapshots, changes, changeBytes, refusals, errors);
  }

  /** Agents that received a snapshot since {@code before} (per-agent snapshot counts). */
  public long[] snapshotCounts() {
    return agents.stream().mapToLong(a -> a.snapshots.get()).toArray();
  }

  public void useTracker(FanoutTracker t) {
    tracker.set(t);
  }

  FanoutTracker tracker() {
    return tracker.get();
  }

  /** Watch streams ended by the hub or the network so far, by status code and first words of the description. */
  public java.util.Map<String, Long> streamCloses() {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    closes.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Failed announce attempts (retried or not) by status code, since the fleet was created. */
  public java.util.Map<String, Long> announceErrors() {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    announceErrors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  void announceFailed(io.grpc.Status status) {
    announceErrors.computeIfAbsent(announceErrorKey(status), k -> new java.util.concurrent.atomic.LongAdder())
        .increment();
  }

  /**
   * The status code and what failed: {@code etcd timeout} (the replica's etcd call hit its
   * timeout), {@code etcd} (etcd refused or did not commit otherwise), {@code busy} (the replica's
   * back-pressure: never written, retried as it was) or {@code other} (connection, TLS, deadline,
   * shutting down); so a count of UNAVAILABLE says whether etcd or the connection failed.
   */
  static String announceErrorKey(io.grpc.Status status) {
    String d = status.getDescription() == null ? "" : status.getDescription();
    String what = d.contains("etcd") && d.contains("try again") ? "busy"
        : d.contains("no answer from etcd within") ? "etcd timeout"
        : d.contains("etcd") ? "etcd"
        : "other";
    return status.getCode().name() + " (" + what + ")";
  }

  void streamClosed(io.grpc.Status status) {
    closes.computeIfAbsent(streamCloseKey(status), k -> new java.util.concurrent.atomic.LongAdder()).increment();
  }

  /**
   * A closed stream's count key: code, description, and the innermost cause ("io exception" says
   * nothing by itself: refused, reset, timed out...), numbers masked so ports do not split counts.
   */
  static String streamCloseKey(io.grpc.Status status) {
    String description = status.getDescription() == null ? "" : status.getDescription();
    String key = status.getCode() + (description.isEmpty() ? "" : ": " + description.substring(0,
        Math.min(description.length(), 60)));
    Throwable root = status.getCause();
    while (root != null && root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != null) {
      String message = root.getMessage() == null ? "" : root.getMessage().replaceAll("[0-9]+", "N");
      key += " (" + root.getClass().getSimpleName()
          + (message.isEmpty() ? "" : ": " + message.substring(0, Math.min(message.length(), 60))) + ")";
    }
    return key;
  }

  void caughtUpChanged(int delta) {
    caughtUp.addAndGet(delta);
  }

  boolean stopping() {
    return stopping;
  }

  Backoff backoff() {
    return backoff;
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  /** Ends every Watch stream; agents stop reconnecting. Connections stay open until {@link #close}. */
  public void stopWatching() {
    stopping = true;
    agents.forEach(SimulatedAgent::cancel);
  }

  @Override
  public void close() {
    stopping = true;
    timer.shutdownNow();
    agents.forEach(SimulatedAgent::cancel);
    agents.forEach(SimulatedAgent::shutdown);
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
  }
}
