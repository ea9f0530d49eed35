package io.meshwire.loadtests.process;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code EtcdProcess} runs a single-member etcd (3.4, {@code /usr/bin/etcd} from Debian's
 * etcd-server) on loopback with a temporary data directory and random ports, serving clients
 * over mutual TLS with certificates of the bench's mesh CA, and plain-HTTP metrics and health on
 * a separate port. Not thread-safe.
 */
public final class EtcdProcess implements AutoCloseable {

  public static final Path DEFAULT_BINARY = Path.of("/usr/bin/etcd");

  private final ChildProcess child;
  private final int clientPort;
  private final int metricsPort;
  private final boolean tls;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private EtcdProcess(ChildProcess child, int clientPort, int metricsPort, boolean tls) {
    this.child = child;
    this.clientPort = clientPort;
    this.metricsPort = metricsPort;
    this.tls = tls;
  }

  /**
   * Starts etcd and waits until {@code /health} answers.
   *
   * @param tlsDir holds {@code server.crt}, {@code server.key} and {@code ca.crt} (PEM) for mutual
   *     TLS, or null for plaintext
   */
  public static EtcdProcess start(Path binary, Path workDir, Path tlsDir) {
    int clientPort = HubProcess.freePort();
    int peerPort = HubProcess.freePort();
    int metricsPort = HubProcess.freePort();
    String scheme = tlsDir == null ? "http" : "https";
    List<String> cmd = new ArrayList<>(List.of(binary.toString(),
        "--name", "bench",
        "--data-dir", workDir.resolve("etcd-data").toString(),
        "--listen-client-urls", scheme + "://127.0.0.1:" + clientPort,
        "--advertise-client-urls", scheme + "://127.0.0.1:" + clientPort,
        "--listen-peer-urls", "http://127.0.0.1:" + peerPort,
        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPort,
        "--initial-cluster", "bench=http://127.0.0.1:" + peerPort,
        "--listen-metrics-urls", "http://127.0.0.1:" + metricsPort,
        "--logger", "zap",
        "--log-level", "warn"));
    if (tlsDir != null) {
      cmd.addAll(List.of("--cert-file", tlsDir.resolve("server.crt").toString(),
          "--key-file", tlsDir.resolve("server.key").toString(),
          "--client-cert-auth",
          "--trusted-ca-file", tlsDir.resolve("ca.crt").toString()));
    }
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + workDir + ": " + e.getMessage(), e);
    }
    ChildProcess child = ChildProcess.start("etcd", cmd, workDir.resolve("etcd.log"), line -> false);
    EtcdProcess etcd = new EtcdProcess(child, clientPort, metricsPort, tlsDir != null);
    try {
      etcd.awaitHealthy(Duration.ofSeconds(30));
    } catch (RuntimeException e) {
      child.close();
      throw e;
    }
    return etcd;
  }

  private void awaitHealthy(Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (!child.isAlive()) {
        throw new IllegalStateException("etcd exited at start (see etcd.log)");
      }
      if (get("/health").contains("\"health\":\"true\"")) {
        return;
      }
      pause(Duration.ofMillis(100));
    }
    throw new IllegalStateException("etcd not healthy within " + within.toSeconds() + "s");
  }

  public String endpoint() {
    return (tls ? "https" : "http") + "://127.0.0.1:" + clientPort;
  }

  public long pid() {
    return child.pid();
  }

  /** A metric from etcd's Prometheus endpoint (first sample of {@code name}), or NaN. */
  public double metric(String name) {
    for (String line : get("/metrics").split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return Double.NaN;
  }

  private String get(String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    child.stop(Duration.ofSeconds(5));
  }
}
