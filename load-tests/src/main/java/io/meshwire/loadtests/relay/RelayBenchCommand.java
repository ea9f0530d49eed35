package io.meshwire.loadtests.relay;

import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.HostPort;
import io.meshwire.relay.RelayTls;
import io.meshwire.relay.client.RelayBridge;
import io.meshwire.relay.server.RelayConfig;
import io.meshwire.relay.server.RelayServer;
import io.meshwire.relay.server.RevocationCheck;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code RelayBenchCommand} is {@code bench relay}: the relay's data path in one process, over real
 * TLS on 127.0.0.1: a "WireGuard" UDP socket of cluster a sends to its bridge endpoint for b; the
 * datagrams cross a's bridge, the relay and b's bridge, and arrive at b's "WireGuard" socket. It
 * measures delivered throughput and loss at full speed, the relay's own CPU per GB forwarded (its
 * event loop threads only), and the round-trip time a datagram pays through the relay against
 * plain loopback UDP. It does not run WireGuard or iperf3: it bounds what the relay adds.
 */
@Command(name = "relay", description = "Relay data path in one process over TLS on 127.0.0.1: throughput, loss, "
    + "relay CPU per GB, and RTT through the relay vs plain UDP.")
public final class RelayBenchCommand implements Callable<Integer> {

  @Option(names = "--seconds", defaultValue = "10", description = "Throughput phase length. Default: ${DEFAULT-VALUE}.")
  private int seconds;

  @Option(names = "--size", defaultValue = "1420", description = "Datagram size (WireGuard's MTU-sized packets). "
      + "Default: ${DEFAULT-VALUE}.")
  private int size;

  @Option(names = "--mbps", defaultValue = "0", description = "Send rate in Mbit/s (0: as fast as one thread can). "
      + "Default: ${DEFAULT-VALUE}.")
  private int mbps;

  @Option(names = "--pings", defaultValue = "2000", description = "Round trips for the RTT phase. Default: ${DEFAULT-VALUE}.")
  private int pings;

  @Option(names = "--ping-gap-ms", defaultValue = "0", description = "Pause between round trips (pacing, as a 10 Hz "
      + "ping's 100): every hop then wakes an idle thread, as on a real link; 0 measures back-to-back round trips. "
      + "Default: ${DEFAULT-VALUE}.")
  private int pingGapMs;

  @Override
  public Integer call() throws Exception {
    MeshCa ca = MeshCa.create("bench", Duration.ofDays(1), InstantSource.system());
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (RelayServer relay = RelayServer.start(RelayConfig.defaults(new HostPort("127.0.0.1", 0)),
            RelayTls.server(keys(ca, Role.HUB, "relay"), InstantSource.system()), RevocationCheck.NONE, meters);
         DatagramChannel wgA = udp();
         DatagramChannel wgB = udp()) {
      List<HostPort> relays = List.of(new HostPort("127.0.0.1", relay.port()));
      try (RelayBridge a = bridge(ca, "a", wgA, relays);
           RelayBridge b = bridge(ca, "b", wgB, relays)) {
        InetSocketAddress aSeesB = a.open("b");
        InetSocketAddress bSeesA = b.open("a");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(a.canReach("b") && b.canReach("a") && relay.connectedClusters().size() == 2)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("bridges did not connect to the relay within 10 s");
          }
          Thread.sleep(10); // bounded wait for the TLS connections of a one-shot benchmark
        }
        double[] rttDirect = rtt(wgA, wgB, (InetSocketAddress) wgB.getLocalAddress(),
            (InetSocketAddress) wgA.getLocalAddress());
        double[] rttRelayed = rtt(wgA, wgB, aSeesB, bSeesA);
        throughput(wgA, wgB, aSeesB, meters);
        System.out.printf("rtt_us median direct=%.1f relayed=%.1f p99 direct=%.1f relayed=%.1f added_median_us=%.1f%n",
            rttDirect[0], rttRelayed[0], rttDirect[1], rttRelayed[1], rttRelayed[0] - rttDirect[0]);
      }
    }
    return 0;
  }

  private void throughput(DatagramChannel wgA, DatagramChannel wgB, InetSocketAddress aSeesB,
      SimpleMeterRegistry meters) throws Exception {
    AtomicLong received = new AtomicLong();
    AtomicLong receivedBytes = new AtomicLong();
    wgB.configureBlocking(true);
    Thread receiver = Thread.ofPlatform().daemon().name("bench-receiver").start(() -> {
      ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
      try {
        while (true) {
          buf.clear();
          wgB.receive(buf);
          received.incrementAndGet();
          receivedBytes.addAndGet(buf.position());
        }
      } catch (IOException closed) {
        // the channel closed at the end of the run
      }
    });
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long relayCpuBefore = cpuOf(threads, "relay-");
    long processCpuBefore = processCpu();
    ByteBuffer datagram = ByteBuffer.allocateDirect(size);
    long sent = 0;
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    long batchNanos = mbps == 0 ? 0 : 64L * size * 8 * 1000 / mbps; // 64 datagrams at mbps
    long nextBatch = start;
    while (System.nanoTime() < end) {
      for (int i = 0; i < 64; i++) {
        datagram.clear();
        wgA.send(datagram, aSeesB);
        sent++;
      }
      nextBatch += batchNanos;
      long wait = nextBatch - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
    }
    long sendNanos = System.nanoTime() - start;
    // Let what is in flight arrive: bounded, one second.
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    long last = -1;
    while (System.nanoTime() < settle && received.get() != last) {
      last = received.get();
      Thread.sleep(100);
    }
    long relayCpu = cpuOf(threads, "relay-") - relayCpuBefore;
    long processCpu = processCpu() - processCpuBefore;
    wgB.close();
    receiver.join(1_000);
    double gb = receivedBytes.get() / 1e9;
    double forwardedGb = meters.find("meshwire.relay.forwarded.bytes").counter().count() / 1e9;
    System.out.printf("throughput mbps_offered=%s size=%d seconds=%.1f sent=%d received=%d loss_pct=%.2f delivered_gbit_s=%.3f "
            + "relay_forwarded_gb=%.3f relay_cpu_s_per_gb=%.2f process_cpu_s_per_gb=%.2f relay_drops_congested=%.0f%n",
        mbps == 0 ? "max" : String.valueOf(mbps), size, sendNanos / 1e9, sent, received.get(), 100.0 * (sent - received.get()) / Math.max(1, sent),
        gb * 8 / (sendNanos / 1e9), forwardedGb, relayCpu / 1e9 / Math.max(forwardedGb, 1e-9),
        processCpu / 1e9 / Math.max(gb, 1e-9),
        meters.find("meshwire.relay.dropped.datagrams").tag("reason", "congested").counter().count());
  }

  /** Median and p99 round trip in microseconds: a -> to, echoed by b back to a's address as seen by b. */
  private double[] rtt(DatagramChannel wgA, DatagramChannel wgB, InetSocketAddress to, InetSocketAddress back)
      throws IOException {
    wgA.configureBlocking(true);
    wgB.configureBlocking(true);
    ByteBuffer out = ByteBuffer.allocate(64);
    ByteBuffer in = ByteBuffer.allocate(2048);
    double[] micros = new double[pings];
    wgA.socket().setSoTimeout(1_000);
    for (int i = 0; i < pings; i++) {
      long t0 = System.nanoTime();
      out.clear();
      wgA.send(out, to);
      in.clear();
      wgB.receive(in);
      in.flip();
      wgB.send(in, back);
      in.clear();
      wgA.receive(in);
      micros[i] = (System.nanoTime() - t0) / 1e3;
      if (pingGapMs > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(pingGapMs * 1_000_000L); // pacing, not a wait for a condition
      }
    }
    Arrays.sort(micros);
    return new double[] {micros[pings / 2], micros[(int) (pings * 0.99)]};
  }

  private static long cpuOf(ThreadMXBean threads, String prefix) {
    long total = 0;
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith(prefix)) {
        total += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
      }
    }
    return total;
  }

  private static long processCpu() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static DatagramChannel udp() throws IOException {
    DatagramChannel ch = DatagramChannel.open();
    ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
    ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
    ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    return ch;
  }

  private static RenewableKeyManager keys(MeshCa ca, Role role, String name) {
    IssuedCredential issued = ca.issue(new SpiffeId(ca.mesh(), role, name), Duration.ofDays(1));
    return new RenewableKeyManager(TlsCredentials.of(issued));
  }

  private static RelayBridge bridge(MeshCa ca, String cluster, DatagramChannel wg, List<HostPort> relays)
      throws IOException {
    RelayBridge bridge = new RelayBridge(cluster, RelayTls.client(keys(ca, Role.CLUSTER, cluster), InstantSource.system()),
        (InetSocketAddress) wg.getLocalAddress(), 4 << 20, Duration.ofSeconds(1), Duration.ofMinutes(5));
    bridge.relays(relays);
    return bridge;
  }
}
