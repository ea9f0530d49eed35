package io.meshwire.loadtests.relay;

import io.meshwire.netlab.lab.MeshLab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code HopCapture} says where a relayed ping's time goes: tcpdump runs in gateway a's, the
 * relay's and gateway b's namespaces during the relayed pings (one kernel clock for all three), and
 * each ping's request and reply are followed through the twelve points they pass (WireGuard a to
 * bridge a on loopback, bridge a to the relay, into and out of the relay, ... back to WireGuard a).
 * The medians of the differences are the per-hop delays: each JVM's share (bridge a, relay, bridge
 * b) and wireguard-go's plus the workload's. A measurement aid of {@code bench path --hops}.
 */
final class HopCapture implements AutoCloseable {

  /** {@code 1733555555.123456 lo In IP 127.0.0.1.51820 > 127.0.0.1.40000: UDP, length 128} (tcpdump -tt -q -i any). */
  private static final Pattern LINE = Pattern.compile(
      "^(\\d+\\.\\d+) (\\S+)\\s+(In|Out|P|M|B)\\s+IP (\\d+\\.\\d+\\.\\d+\\.\\d+)\\.(\\d+) > (\\d+\\.\\d+\\.\\d+\\.\\d+)\\.(\\d+): "
          + "(?:UDP, length|tcp) (\\d+)");

  /** One captured packet. */
  record Packet(double t, String iface, String dir, String src, int sport, String dst, int dport, int length) {
    boolean lo() {
      return iface.equals("lo");
    }
  }

  private static final String[] HOPS = {
    "bridge a: UDP from WireGuard -> TLS out", "wire a -> relay", "relay: in -> out (a to b)", "wire relay -> b",
    "bridge b: TLS in -> UDP to WireGuard", "wireguard-go b + workload b (decrypt, ICMP reply, encrypt)",
    "bridge b: UDP from WireGuard -> TLS out", "wire b -> relay", "relay: in -> out (b to a)", "wire relay -> a",
    "bridge a: TLS in -> UDP to WireGuard"};

  private final Path dir;
  private final List<Process> processes = new ArrayList<>();
  private final int relayPort;

  private HopCapture(Path dir, int relayPort) {
    this.dir = dir;
    this.relayPort = relayPort;
  }

  /** Starts tcpdump in the three namespaces; returns once all three listen. */
  static HopCapture start(MeshLab lab, Path dir, String relay, int relayPort) {
    HopCapture c = new HopCapture(dir, relayPort);
    String filter = "udp or (tcp port " + relayPort + ")";
    for (String[] where : List.of(new String[] {"a", lab.cluster("a").gateway()},
        new String[] {"relay", lab.relayNamespace(relay)}, new String[] {"b", lab.cluster("b").gateway()})) {
      Path file = dir.resolve("hops-" + where[0] + ".txt");
      c.processes.add(lab.net().spawn(where[1], List.of("tcpdump", "-i", "any", "-n", "-l", "-tt", "-q",
          "--immediate-mode", filter), file));
    }
    MeshLab.awaitTrue(() -> List.of("a", "relay", "b").stream().allMatch(n -> read(dir.resolve("hops-" + n + ".txt"))
        .contains("listening on")), Duration.ofSeconds(10), "tcpdump listening in a, relay and b");
    return c;
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  static List<Packet> parse(String text) {
    List<Packet> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      Matcher m = LINE.matcher(line);
      if (m.find()) {
        out.add(new Packet(Double.parseDouble(m.group(1)), m.group(2), m.group(3), m.group(4),
            Integer.parseInt(m.group(5)), m.group(6), Integer.parseInt(m.group(7)), Integer.parseInt(m.group(8))));
      }
    }
    return out;
  }

  /**
   * Stops the captures and returns the per-hop report. {@code bridgeA} / {@code bridgeB}: the
   * bridge socket ports (WireGuard's endpoint for the peer on each side).
   */
  String stopAndReport(int bridgeA, int bridgeB, String gatewayA, String gatewayB, double pingMedianMs) {
    close();
    return report(parse(read(dir.resolve("hops-a.txt"))), parse(read(dir.resolve("hops-relay.txt"))),
        parse(read(dir.resolve("hops-b.txt"))), relayPort, bridgeA, bridgeB, gatewayA, gatewayB, pingMedianMs);
  }

  /** The per-hop report of three captures (gateway a, relay, gateway b). */
  static String report(List<Packet> a, List<Packet> r, List<Packet> b, int relayPort, int bridgeA, int bridgeB,
      String gatewayA, String gatewayB, double pingMedianMs) {
    // The twelve points, in path order; loopback packets are counted once (as they arrive: In).
    List<List<Double>> points = List.of(
        times(a, p -> p.lo() && p.dir().equals("In") && p.dport() == bridgeA && p.length() > 0),
        times(a, p -> !p.lo() && p.dir().equals("Out") && p.dport() == relayPort && p.length() > 0),
        times(r, p -> p.dir().equals("In") && p.src().equals(gatewayA) && p.dport() == relayPort && p.length() > 0),
        times(r, p -> p.dir().equals("Out") && p.dst().equals(gatewayB) && p.sport() == relayPort && p.length() > 0),
        times(b, p -> !p.lo() && p.dir().equals("In") && p.sport() == relayPort && p.length() > 0),
        times(b, p -> p.lo() && p.dir().equals("In") && p.sport() == bridgeB && p.length() > 0),
        times(b, p -> p.lo() && p.dir().equals("In") && p.dport() == bridgeB && p.length() > 0),
        times(b, p -> !p.lo() && p.dir().equals("Out") && p.dport() == relayPort && p.length() > 0),
        times(r, p -> p.dir().equals("In") && p.src().equals(gatewayB) && p.dport() == relayPort && p.length() > 0),
        times(r, p -> p.dir().equals("Out") && p.dst().equals(gatewayA) && p.sport() == relayPort && p.length() > 0),
        times(a, p -> !p.lo() && p.dir().equals("In") && p.sport() == relayPort && p.length() > 0),
        times(a, p -> p.lo() && p.dir().equals("In") && p.sport() == bridgeA && p.length() > 0));
    List<double[]> walks = new ArrayList<>();
    for (double start : points.get(0)) {
      double[] walk = new double[points.size()];
      walk[0] = start;
      boolean complete = true;
      for (int i = 1; i < points.size() && complete; i++) {
        walk[i] = firstAtOrAfter(points.get(i), walk[i - 1]);
        complete = walk[i] - start < 0.05; // 50 ms: a ping every 100 ms, so never the next ping's packet
      }
      if (complete) {
        walks.add(walk);
      }
    }
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
        "where a relayed ping's time goes (tcpdump, medians of %d pings whose request and reply were seen at all 12 points):%n",
        walks.size()));
    if (walks.isEmpty()) {
      return out.append("  no complete ping seen (see hops-*.txt in the work directory)\n").toString();
    }
    double total = 0;
    for (int i = 0; i < HOPS.length; i++) {
      int hop = i;
      double us = median(walks.stream().mapToDouble(w -> (w[hop + 1] - w[hop]) * 1e6).toArray());
      total += us;
      out.append(String.format(Locale.ROOT, "  %-62s %8.0f us%n", HOPS[i], us));
    }
    double inside = median(walks.stream().mapToDouble(w -> (w[11] - w[0]) * 1e6).toArray());
    out.append(String.format(Locale.ROOT, "  %-62s %8.0f us (sum of medians %.0f)%n",
        "from WireGuard a's datagram to the reply at WireGuard a", inside, total));
    out.append(String.format(Locale.ROOT, "  %-62s %8.0f us%n", "rest of the ping median (workload a, wireguard-go a)",
        pingMedianMs * 1000 - inside));
    return out.toString();
  }

  private static List<Double> times(List<Packet> packets, java.util.function.Predicate<Packet> which) {
    return packets.stream().filter(which).map(Packet::t).sorted().toList();
  }

  private static double firstAtOrAfter(List<Double> sorted, double t) {
    int i = java.util.Collections.binarySearch(sorted, t);
    int at = i >= 0 ? i : -i - 1;
    return at < sorted.size() ? sorted.get(at) : Double.POSITIVE_INFINITY;
  }

  private static double median(double[] values) {
    java.util.Arrays.sort(values);
    return values[values.length / 2];
  }

  /** Stops tcpdump (SIGTERM; it flushes its line-buffered output). */
  @Override
  public void close() {
    for (Process p : processes) {
      p.destroy();
      try {
        p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      p.destroyForcibly();
    }
  }
}
