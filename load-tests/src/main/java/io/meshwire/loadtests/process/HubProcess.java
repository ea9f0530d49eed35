package io.meshwire.loadtests.process;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code HubProcess} runs {@code io.meshwire.hub.server.HubMain} in a child JVM (same JDK and class
 * path as the bench) on a fixed data directory and port, so it can be SIGKILLed and started again
 * in place. Not thread-safe: one bench thread drives it.
 */
public final class HubProcess implements AutoCloseable {

  /** The hub's mesh name in every bench. */
  public static final String MESH = "bench.mesh";

  private final Path dataDir;
  private final int port;
  private final int metricsPort;
  private final Map<String, String> settings;
  private final List<String> jvmArgs;
  private final CpuSet pin; // null: not pinned
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ChildProcess child;

  private HubProcess(Path dataDir, int port, int metricsPort, Map<String, String> settings, List<String> jvmArgs,
      CpuSet pin) {
    this.pin = pin;
    this.dataDir = dataDir;
    this.port = port;
    this.metricsPort = metricsPort;
    this.settings = Map.copyOf(settings);
    this.jvmArgs = List.copyOf(jvmArgs);
  }

  /**
   * Starts a hub on a free loopback port and waits for {@code READY}.
   *
   * @param settings extra {@code HubConfig} keys (e.g. {@code snapshot-chunk-size}); the bench
   *     always sets data-dir, listen, mesh, metrics-listen and high announce and enroll rates
   */
  public static HubProcess start(Path dataDir, Map<String, String> settings, List<String> jvmArgs) {
    return start(dataDir, settings, jvmArgs, null);
  }

  /**
   * As {@link #start(Path, Map, List)}, the hub pinned to {@code pin} from its start (and again at
   * each restart), so the JVM sizes its event loops and GC threads for those CPUs; null: not pinned.
   */
  public static HubProcess start(Path dataDir, Map<String, String> settings, List<String> jvmArgs, CpuSet pin) {
    HubProcess hub = new HubProcess(dataDir, freePort(), freePort(), settings, jvmArgs, pin);
    hub.startChild();
    return hub;
  }

  private void startChild() {
    List<String> cmd = new ArrayList<>(pin == null ? List.of() : pin.commandPrefix());
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.addAll(jvmArgs);
    cmd.add("-Dlogback.configurationFile=meshwire-bench-logback.xml");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.meshwire.hub.server.HubMain");
    cmd.addAll(List.of("--data-dir", dataDir.toString(), "--listen", "127.0.0.1:" + port, "--mesh", MESH,
        "--metrics-listen", "127.0.0.1:" + metricsPort, "--announce-rate", "100000/1s", "--enroll-rate", "100000/1s"));
    settings.forEach((k, v) -> cmd.addAll(List.of("--" + k, v)));
    child = ChildProcess.start("hub", cmd, dataDir.resolveSibling("hub.log"), line -> line.startsWith("READY "));
    child.awaitReady(Duration.ofSeconds(90));
  }

  public int port() {
    return port;
  }

  public long pid() {
    return child.pid();
  }

  public Path dataDir() {
    return dataDir;
  }

  /** SIGKILL (the reconnect storm's crash). */
  public void kill() {
    child.kill();
  }

  /** Starts the hub again on the same data directory and port; returns once it printed READY. */
  public void restart() {
    if (child.isAlive()) {
      throw new IllegalStateException("hub " + child + " is still running");
    }
    startChild();
  }

  /** A gauge or counter from the hub's Prometheus endpoint (first sample of {@code name}), or NaN. */
  public double metric(String name) {
    return io.meshwire.netlab.lab.MetricsScrape.firstSample(metricsPort, name, Duration.ofSeconds(10));
  }

  /**
   * The cumulative buckets of a Prometheus histogram ({@code <name>_bucket{le="..."}}), upper bound
   * to count, in ascending order; empty when the endpoint does not answer.
   */
  public java.util.SortedMap<Double, Double> histogram(String name) {
    java.util.SortedMap<Double, Double> buckets = new java.util.TreeMap<>();
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort
          + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      for (String line : r.body().split("\n")) {
        int le = line.indexOf("le=\"");
        if (line.startsWith(name + "_bucket{") && le > 0) {
          String bound = line.substring(le + 4, line.indexOf('"', le + 4));
          buckets.put(bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound),
              Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
        }
      }
    } catch (IOException | NumberFormatException e) {
      buckets.clear();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      buckets.clear();
    }
    return buckets;
  }

  @Override
  public void close() {
    if (child != null) {
      child.stop(Duration.ofSeconds(10));
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port: " + e.getMessage(), e);
    }
  }
}
