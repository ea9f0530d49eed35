package io.meshwire.loadtests.relay;

import io.meshwire.loadtests.process.CpuSet;
import io.meshwire.loadtests.process.ProcStats;
import io.meshwire.netlab.lab.AgentJvmOptions;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.relay.RelayTransport;
import io.meshwire.netlab.netns.ClusterNet;
import io.meshwire.netlab.netns.ExecResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code PathBenchCommand} is {@code bench path}: two clusters (wireguard-go in network
 * namespaces, hub, agents and a standalone relay as processes from the built jar), measured
 * between their workloads with iperf3 (TCP, 1 and 4 streams) and ping, first on the direct path,
 * then with the pair's UDP blocked so that the agents move the link to the relay, in the same run.
 * The relay's CPU per GB is its process's CPU time over the bytes iperf3 moved through it.
 * Needs root, iperf3, wireguard-go and nft; a benchmark, not a test.
 */
@Command(name = "path", description = "iperf3 TCP throughput (1 and 4 streams) and ping RTT between two clusters' "
    + "workloads over WireGuard, direct vs relayed, plus relay CPU per GB (root, namespaces, wireguard-go).")
public final class PathBenchCommand implements Callable<Integer> {

  private static final Pattern RECEIVED = Pattern.compile(
      "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bytes\"\\s*:\\s*(\\d+)[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)");
  private static final int RELAY_PORT = 443;
  private static final Pattern RTT = Pattern.compile("time=([0-9.]+) ms");

  @Option(names = "--seconds", defaultValue = "10", description = "iperf3 run length. Default: ${DEFAULT-VALUE}.")
  private int seconds;

  @Option(names = "--pings", defaultValue = "100", description = "Pings per path (10 Hz). Default: ${DEFAULT-VALUE}.")
  private int pings;

  @Option(names = "--jar", defaultValue = "cli/target/meshwire.jar", description = "The meshwire jar. "
      + "Default: ${DEFAULT-VALUE}.")
  private Path jar;

  @Option(names = "--work-dir", defaultValue = "target/bench-path", description = "Logs and state. "
      + "Default: ${DEFAULT-VALUE}.")
  private Path workDir;

  @Option(names = "--relay-transport", defaultValue = "auto", description = "The relay's and the agents' bridge "
      + "transport (-Dmeshwire.relay.transport): auto, epoll or nio, to compare them. Default: ${DEFAULT-VALUE}.")
  private String relayTransport;

  @Option(names = "--hops", description = "Also capture the relayed pings with tcpdump in gateway a's, the relay's "
      + "and gateway b's namespaces and print where their time goes, hop by hop (needs tcpdump).")
  private boolean hops;

  @Option(names = "--profile", description = "During the relayed 1-stream iperf3, record the relay's and both agents' "
      + "CPU with perf and print it by component (kernel, TLS, JIT code, JVM, libc; needs perf).")
  private boolean profile;

  @Option(names = "--warmup", defaultValue = "10", description = "Seconds of unmeasured iperf3 before each path's "
      + "runs (without it the relayed runs include the relay's JIT compilation; 0: none). Default: ${DEFAULT-VALUE}.")
  private int warmup;

  @Option(names = "--ping-only", description = "Skip iperf3: RTT only (quick A/B runs of latency changes).")
  private boolean pingOnly;

  @Option(names = "--relay-args", split = " ", description = "Extra meshwire relay flags, e.g. \"--threads=1\".")
  private List<String> relayArgs = List.of();

  @Option(names = "--agent-jvm-args", split = " ", description = "JVM options added after the agents' shipped ones "
      + "(later options win), e.g. \"-XX:TieredStopAtLevel=4\" to run the bridges' data path with C2.")
  private List<String> agentJvmArgs = List.of();

  @Option(names = "--pin", paramLabel = "CPUS", description = "Pin the relay's and both agents' processes (every "
      + "thread, taskset) to these CPUs once the mesh is up, e.g. 1: the relayed hops then wake threads on one CPU "
      + "(a diagnostic: on a VM, waking a thread whose CPU is idle costs far more than waking it on the current one).")
  private String pin;

  /** One path's numbers. */
  record Result(String path, double gbps1, double gbps4, double rttMedianMs, double relayCpuSecondsPerGb) {}

  @Override
  public Integer call() throws Exception {
    CpuSet cpus = pin == null ? null : CpuSet.parse(pin); // a bad set fails before the lab starts
    Path work = workDir.resolve("run-" + System.currentTimeMillis());
    Files.createDirectories(work);
    // The full JIT and a larger heap: the data path is what is measured here.
    String transport = "-D" + RelayTransport.PROPERTY + "=" + relayTransport;
    List<String> jvm = List.of("-Xmx512m", "-XX:+UseParallelGC", transport);
    List<Result> results = new ArrayList<>();
    try (MeshLab lab = MeshLab.startWithRelays(work, jar, List.of("r1"), RELAY_PORT, jvm)) {
      if (!relayTransport.equals("auto") || !agentJvmArgs.isEmpty()) {
        List<String> agentJvm = new ArrayList<>(AgentJvmOptions.fromJar(jar)); // the shipped options, as users run it
        agentJvm.add(transport);
        agentJvm.addAll(agentJvmArgs);
        lab.agentJvmOptions(agentJvm);
        System.out.println("agent JVM options added: " + agentJvm.subList(agentJvm.size() - 1 - agentJvmArgs.size(),
            agentJvm.size()));
      }
      if (!relayArgs.isEmpty()) {
        lab.relayArgs(relayArgs);
        lab.killRelay("r1");
        lab.startRelay("r1");
        System.out.println("relay flags: " + relayArgs);
      }
      lab.addCluster("a", "10.121.0.0/16");
      lab.addCluster("b", "10.122.0.0/16");
      lab.awaitFullMesh(List.of("a", "b"), Duration.ofSeconds(60));
      if (cpus != null) {
        for (long pid : List.of(lab.relayPid("r1"), lab.agentPid("a"), lab.agentPid("b"))) {
          cpus.pin(pid);
        }
        System.out.println("relay and agents pinned to CPUs " + cpus);
      }
      ClusterNet b = lab.cluster("b");
      lab.net().spawn(b.workload(), List.of("iperf3", "-s", "-B", b.workloadAddress()), work.resolve("iperf3.log"));
      if (!pingOnly) {
        MeshLab.awaitTrue(() -> iperf(lab, 1, 1) != null, Duration.ofSeconds(20), "iperf3 server in b");
      }

      long[] before = rcvbufErrors(lab);
      results.add(measure(lab, "direct", -1, work));
      long[] afterDirect = rcvbufErrors(lab);
      lab.blockUdp("a", "b", true);
      long blocked = System.nanoTime();
      // Ping on every poll (not short-circuited): an idle link is judged only when it carries traffic.
      MeshLab.awaitTrue(() -> lab.ping("a", "b", 1) & lab.wgEndpoint("a", "b").startsWith("127.0.0.1:")
              & lab.wgEndpoint("b", "a").startsWith("127.0.0.1:"), Duration.ofSeconds(30), "a <-> b relayed");
      System.out.printf(Locale.ROOT, "blackhole to relayed: %.1f s (relay transport %s)%n",
          (System.nanoTime() - blocked) / 1e9, relayTransport);
      long[] beforeRelayed = rcvbufErrors(lab);
      results.add(measure(lab, "relayed", lab.relayPid("r1"), work));
      long[] afterRelayed = rcvbufErrors(lab);
      printDrops(lab);
      System.out.printf(Locale.ROOT, "gateway UDP receive-buffer drops (RcvbufErrors) a / b: direct runs %d / %d,"
          + " relayed runs %d / %d%n", afterDirect[0] - before[0], afterDirect[1] - before[1],
          afterRelayed[0] - beforeRelayed[0], afterRelayed[1] - beforeRelayed[1]);
    }
    print(results);
    return 0;
  }

  private Result measure(MeshLab lab, String path, long relayPid, Path work) {
    if (pingOnly) {
      return new Result(path, Double.NaN, Double.NaN, rtt(lab, relayPid > 0, work), Double.NaN);
    }
    if (warmup > 0) {
      iperf(lab, 1, warmup); // not measured: the relay's and bridges' data path gets compiled first
    }
    double cpuBefore = relayPid > 0 ? ProcStats.cpuSeconds(relayPid) : 0;
    double[] one;
    if (profile && relayPid > 0) {
      Map<String, Long> pids = new java.util.LinkedHashMap<>();
      pids.put("relay", relayPid);
      pids.put("agent a", lab.agentPid("a"));
      pids.put("agent b", lab.agentPid("b"));
      try (CpuProfile cpu = CpuProfile.start(pids, work)) {
        one = iperf(lab, 1, seconds);
        System.out.print(cpu.stopAndReport());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    } else {
      one = iperf(lab, 1, seconds);
    }
    double[] four = iperf(lab, 4, seconds);
    double cpu = relayPid > 0 ? ProcStats.cpuSeconds(relayPid) - cpuBefore : 0;
    if (one == null || four == null) {
      throw new IllegalStateException("iperf3 on the " + path + " path failed");
    }
    double gb = (one[0] + four[0]) / 1e9;
    return new Result(path, one[1] / 1e9, four[1] / 1e9, rtt(lab, relayPid > 0, work),
        relayPid > 0 ? cpu / gb : Double.NaN);
  }

  /** The ping median; on the relayed path with {@code --hops}, also where its time goes. */
  private double rtt(MeshLab lab, boolean relayed, Path work) {
    if (!relayed || !hops) {
      return rttMedian(lab);
    }
    warmUp(lab);
    try (HopCapture capture = HopCapture.start(lab, work, "r1", RELAY_PORT)) {
      double median = pings(lab);
      System.out.print(capture.stopAndReport(port(lab.wgEndpoint("a", "b")), port(lab.wgEndpoint("b", "a")),
          lab.cluster("a").publicAddress(), lab.cluster("b").publicAddress(), median));
      return median;
    }
  }

  private static int port(String endpoint) {
    return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
  }

  /** {bytes received, bits per second}, or null when iperf3 failed. */
  private static double[] iperf(MeshLab lab, int streams, int secs) {
    ClusterNet a = lab.cluster("a");
    ExecResult r = lab.net().exec(a.workload(), Duration.ofSeconds(secs + 30), "iperf3", "-c",
        lab.cluster("b").workloadAddress(), "-t", String.valueOf(secs), "-P", String.valueOf(streams), "-J");
    Matcher m = RECEIVED.matcher(r.stdout());
    if (!r.ok() || !m.find()) {
      return null;
    }
    return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
  }

  private double rttMedian(MeshLab lab) {
    warmUp(lab);
    return pings(lab);
  }

  /** Without iperf3 first, the data path's code would still be interpreted: 2,000 quick pings compile it. */
  private void warmUp(MeshLab lab) {
    if (pingOnly) {
      lab.net().exec(lab.cluster("a").workload(), Duration.ofSeconds(60), "ping", "-n", "-q", "-i", "0.002", "-c",
          "2000", lab.cluster("b").workloadAddress());
    }
  }

  /** Median RTT of {@link #pings} pings at 10 Hz. */
  private double pings(MeshLab lab) {
    ExecResult r = lab.net().exec(lab.cluster("a").workload(), Duration.ofSeconds(pings / 10 + 20), "ping", "-n",
        "-i", "0.1", "-c", String.valueOf(pings), lab.cluster("b").workloadAddress());
    List<Double> rtts = new ArrayList<>();
    Matcher m = RTT.matcher(r.stdout());
    while (m.find()) {
      rtts.add(Double.parseDouble(m.group(1)));
    }
    if (rtts.isEmpty()) {
      return Double.NaN;
    }
    rtts.sort(null);
    return rtts.get(rtts.size() / 2);
  }

  /** Gateways a's and b's kernel UDP receive-buffer drop counters (-1 when unreadable). */
  private static long[] rcvbufErrors(MeshLab lab) {
    long[] out = new long[2];
    for (int i = 0; i < 2; i++) {
      String n = udpRcvbufErrors(lab.net().exec(lab.cluster(i == 0 ? "a" : "b").gateway(), Duration.ofSeconds(10),
          "cat", "/proc/net/snmp").stdout());
      out[i] = n.equals("?") ? -1 : Long.parseLong(n);
    }
    return out;
  }

  /** Where relayed datagrams were lost, if anywhere: the relay's drops by reason and each bridge's. */
  private static void printDrops(MeshLab lab) {
    String relay = lab.relayMetrics("r1");
    StringBuilder out = new StringBuilder("relay r1: forwarded ")
        .append(MeshLab.metric(relay, "meshwire_relay_forwarded_datagrams_total").orElse(Double.NaN));
    for (String line : relay.split("\n")) {
      if (line.startsWith("meshwire_relay_dropped_datagrams_total{")) {
        out.append(", dropped ").append(line);
      }
    }
    System.out.println(out);
    for (String c : List.of("a", "b")) {
      String m = lab.agentMetrics(c);
      System.out.printf(Locale.ROOT, "bridge %s: out %.0f in %.0f drops %.0f; gateway UDP receive-buffer drops %s%n", c,
          MeshLab.metric(m, "meshwire_agent_relay_datagrams_out_total").orElse(Double.NaN),
          MeshLab.metric(m, "meshwire_agent_relay_datagrams_in_total").orElse(Double.NaN),
          MeshLab.metric(m, "meshwire_agent_relay_drops_total").orElse(Double.NaN),
          udpRcvbufErrors(lab.net().exec(lab.cluster(c).gateway(), Duration.ofSeconds(10), "cat", "/proc/net/snmp")
              .stdout()));
    }
  }

  /** The kernel's count of UDP datagrams dropped for a full socket receive buffer, from /proc/net/snmp. */
  static String udpRcvbufErrors(String snmp) {
    String[] header = null;
    for (String line : snmp.split("\n")) {
      if (!line.startsWith("Udp: ")) {
        continue;
      }
      String[] fields = line.trim().split("\\s+");
      if (header == null) {
        header = fields;
      } else {
        for (int i = 0; i < header.length && i < fields.length; i++) {
          if (header[i].equals("RcvbufErrors")) {
            return fields[i];
          }
        }
      }
    }
    return "?";
  }

  private static void print(List<Result> results) {
    System.out.println("| path | iperf3 1 stream | iperf3 4 streams | ping RTT median | relay CPU per GB |");
    System.out.println("|---|---|---|---|---|");
    for (Result r : results) {
      System.out.printf(Locale.ROOT, "| %s | %.2f Gbit/s | %.2f Gbit/s | %.3f ms | %s |%n", r.path(), r.gbps1(),
          r.gbps4(), r.rttMedianMs(), Double.isNaN(r.relayCpuSecondsPerGb()) ? "-"
              : String.format(Locale.ROOT, "%.1f s", r.relayCpuSecondsPerGb()));
    }
    if (results.size() == 2) {
      Result d = results.get(0);
      Result rel = results.get(1);
      System.out.printf(Locale.ROOT, "direct/relayed throughput: %.2fx (1 stream), %.2fx (4 streams);"
          + " relay adds %.3f ms RTT%n", d.gbps1() / rel.gbps1(), d.gbps4() / rel.gbps4(),
          rel.rttMedianMs() - d.rttMedianMs());
    }
  }
}
