package io.meshwire.cli.demo;

import io.meshwire.cli.Commands;
import io.meshwire.cli.Table;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.netlab.netns.ExecResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code DemoCommand} is {@code meshwire demo}: a hub and three clusters in network namespaces on
 * this machine, with real WireGuard (wireguard-go), telling the hub-outage story: the mesh forms,
 * the hub is killed and pings go on, an agent restarts during the outage, the hub comes back.
 * Everything is removed on exit or Ctrl-C.
 */
@Command(name = "demo", description = {
    "Run a hub and 3 clusters in network namespaces and show the mesh surviving a hub outage.",
    "Needs root, wireguard-go, wireguard-tools and iproute2 (offers to install them)."})
public final class DemoCommand implements Callable<Integer> {

  private static final List<String> PACKAGES = List.of("wireguard-go", "wireguard-tools", "iproute2", "iputils-ping");
  private static final Map<String, String> TOOLS = Map.of("wireguard-go", "wireguard-go", "wg", "wireguard-tools",
      "ip", "iproute2", "ping", "iputils-ping");

  @Spec private CommandSpec spec;

  @Option(names = "--yes", description = "Do not ask: install missing packages and run every step without pausing.")
  boolean yes;

  @Option(names = "--scenario", description = "Run a scenario non-interactively and print a summary: outage.")
  String scenario;

  @Option(names = "--work-dir", description = "Where logs and state go (default: a new directory under /tmp).")
  Path workDir;

  private final Map<String, String> figures = new LinkedHashMap<>();
  private final List<String> failures = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = Commands.out(spec);
    if (scenario != null && !scenario.equals("outage")) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--scenario: unknown scenario \"" + scenario + "\" (known: outage)");
    }
    if (!"0".equals(run("id", "-u").strip())) {
      throw new IllegalStateException("the demo needs root: it creates network namespaces and WireGuard "
          + "interfaces (NET_ADMIN). Run: sudo ./meshwire demo");
    }
    ensureTools(out);
    Path jar = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("run the demo from the packaged jar (./meshwire demo), not from classes: " + jar);
    }
    Path work = workDir != null ? workDir : Files.createTempDirectory("meshwire-demo-");
    boolean interactive = scenario == null && !yes && System.console() != null;
    out.println("meshwire demo: logs and state in " + work);
    try (MeshLab lab = MeshLab.start(work, jar)) {
      Thread cleanup = new Thread(lab::close, "demo-cleanup");
      Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C removes namespaces and processes
      story(lab, out, interactive);
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }
    out.println();
    out.println("Summary");
    Table summary = Table.withHeader("FIGURE", "VALUE");
    figures.forEach(summary::row);
    summary.print(out);
    if (!failures.isEmpty()) {
      failures.forEach(f -> out.println("FAILED: " + f));
      return 1;
    }
    out.println("all steps passed; namespaces and processes removed");
    return 0;
  }

  private void story(MeshLab lab, PrintWriter out, boolean interactive) throws Exception {
    step(out, interactive, "1. Start a hub and clusters a, b, c (each: gateway namespace with an agent and "
        + "wireguard-go, workload namespace behind it)");
    long t0 = System.nanoTime();
    lab.addCluster("a", "10.101.0.0/16");
    lab.addCluster("b", "10.102.0.0/16");
    lab.addCluster("c", "10.103.0.0/16");
    List<String> names = List.of("a", "b", "c");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    boolean formed = false;
    while (!formed && System.nanoTime() < deadline) {
      formed = fullMesh(lab, names);
      printMesh(lab, out, names);
    }
    record("full mesh formed", formed, ms(t0) + " ms after the first agent started");

    step(out, interactive, "2. SIGKILL the hub; ping a -> b at 10 Hz for 10 s");
    lab.killHub();
    int lost = lab.pingLoss("a", "b", 100, Duration.ofMillis(100));
    record("packets lost during hub outage", lost == 0, lost + " of 100");
    printMesh(lab, out, names);

    step(out, interactive, "3. With the hub still down, SIGKILL agent a (and its wireguard-go) and restart it");
    lab.killAgentAndDataPlane("a");
    long t1 = System.nanoTime();
    lab.startAgent("a");
    boolean restored = waitFor(() -> lab.ping("a", "b", 1) && lab.ping("a", "c", 1), Duration.ofSeconds(15));
    record("agent restart -> tunnels back (hub down)", restored, ms(t1) + " ms, from its state file alone");
    printMesh(lab, out, names);

    step(out, interactive, "4. Bring the hub back; agents resume from their revision");
    long t2 = System.nanoTime();
    lab.startHub();
    boolean resumed = waitFor(() -> MeshLab.metric(lab.hubMetrics(), "meshwire_hub_watchers").orElse(0.0) >= 3,
        Duration.ofSeconds(60));
    double snapshots = MeshLab.metric(lab.hubMetrics(), "meshwire_hub_snapshots_served_total").orElse(-1.0);
    record("agents reconnected to the hub", resumed, ms(t2) + " ms");
    record("snapshots served on resume", snapshots == 0, String.valueOf((long) snapshots));
    ExecResult status = lab.cli("status");
    out.println(status.stdout());
  }

  private static boolean fullMesh(MeshLab lab, List<String> names) {
    for (String from : names) {
      for (String to : names) {
        if (!from.equals(to) && !lab.ping(from, to, 1)) {
          return false;
        }
      }
    }
    return true;
  }

  private static final Pattern PEER = Pattern.compile(
      "\\{\"cluster\":\"([^\"]+)\",\"state\":\"([A-Z]+)\",\"endpoint\":(null|\"[^\"]*\"),\"handshake_age_seconds\":(null|\\d+)");

  /** The live table: each cluster's view of each peer, with RTT measured by one ping. */
  private static void printMesh(MeshLab lab, PrintWriter out, List<String> names) {
    Table t = Table.withHeader("CLUSTER", "PEER", "STATE", "ENDPOINT", "HANDSHAKE AGE", "RTT");
    for (String name : names) {
      Matcher m = PEER.matcher(lab.agentStatus(name));
      while (m.find()) {
        String peer = m.group(1);
        t.row(name, peer, m.group(2), m.group(3).replace("\"", ""),
            m.group(4).equals("null") ? "-" : m.group(4) + "s", rtt(lab, name, peer));
      }
    }
    out.println();
    t.print(out);
    out.flush();
  }

  private static String rtt(MeshLab lab, String from, String to) {
    ExecResult r = lab.net().exec(lab.cluster(from).workload(), "ping", "-n", "-c", "1", "-W", "1",
        lab.cluster(to).workloadAddress());
    Matcher m = Pattern.compile("time=([0-9.]+) ms").matcher(r.stdout());
    return m.find() ? m.group(1) + " ms" : "-";
  }

  private void record(String figure, boolean ok, String value) {
    figures.put(figure, (ok ? "" : "FAILED: ") + value);
    if (!ok) {
      failures.add(figure + ": " + value);
    }
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  private static boolean waitFor(java.util.function.BooleanSupplier condition, Duration timeout) {
    try {
      MeshLab.awaitTrue(condition, timeout, "demo step");
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  private void step(PrintWriter out, boolean interactive, String text) throws IOException {
    out.println();
    out.println("== " + text);
    out.flush();
    if (interactive) {
      out.print("   press Enter to go on ");
      out.flush();
      new BufferedReader(new InputStreamReader(System.in)).readLine();
    }
  }

  private void ensureTools(PrintWriter out) throws IOException, InterruptedException {
    List<String> missing = new ArrayList<>();
    TOOLS.forEach((tool, pkg) -> {
      if (run("sh", "-c", "command -v " + tool + " || true").isBlank() && !missing.contains(pkg)) {
        missing.add(pkg);
      }
    });
    if (missing.isEmpty()) {
      return;
    }
    if (!yes) {
      out.print("missing packages: " + String.join(" ", missing) + ". Install them with apt-get? [y/N] ");
      out.flush();
      String answer = System.console() == null ? null : System.console().readLine();
      if (answer == null || !answer.strip().equalsIgnoreCase("y")) {
        throw new IllegalStateException("the demo needs " + String.join(", ", missing)
            + " (apt-get install " + String.join(" ", PACKAGES) + ", or run with --yes)");
      }
    }
    Process p = new ProcessBuilder("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
        + "--no-install-recommends " + String.join(" ", missing)).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("apt-get install " + String.join(" ", missing) + " failed");
    }
  }

  private static String run(String... argv) {
    try {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor();
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(String.join(" ", argv) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
