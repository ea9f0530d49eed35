package io.meshwire.netlab.etcd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code EtcdCluster} launches a real etcd cluster (Debian's etcd-server, {@code /usr/bin/etcd}
 * 3.4) of N members on loopback: random ports, a temporary directory, mutual TLS for clients and
 * between members, certificates made with {@code openssl} for 127.0.0.1. Members can be stopped,
 * SIGKILLed, frozen and started again on the same data and ports. No JUnit here: the load tests,
 * a lab or a demo use it as it is; tests use {@code EtcdClusterExtension} (test-support).
 *
 * <p>Every process is killed by its PID in {@link #close()}, and by a JVM shutdown hook if the JVM
 * exits first; the directory is deleted. Not thread-safe: one test thread drives it.
 */
public final class EtcdCluster implements AutoCloseable {

  public static final Path BINARY = Path.of("/usr/bin/etcd");
  private static final Set<ProcessHandle> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(ProcessHandle::destroyForcibly),
        "etcd-cluster-cleanup"));
  }

  /**
   * Raft timing of the members: {@link #FAST_FAILOVER} (heartbeat 50 ms, election 500 ms) keeps
   * failover tests short; {@link #ETCD_DEFAULTS} (100 ms, 1 s) is what an operator's etcd runs with,
   * for measurements on a loaded machine, where a member starved of CPU for 500 ms would start an
   * election that a production cluster would not see.
   */
  public record Timing(Duration heartbeat, Duration election) {
    public static final Timing FAST_FAILOVER = new Timing(Duration.ofMillis(50), Duration.ofMillis(500));
    public static final Timing ETCD_DEFAULTS = new Timing(Duration.ofMillis(100), Duration.ofSeconds(1));
  }

  /** Client-side TLS files: the CA that signed the members, and a client certificate and key. */
  public record ClientTls(Path ca, Path cert, Path key) {}

  private final Path binary;
  private final Path dir;
  private final ClientTls clientTls;
  private final List<Member> members = new ArrayList<>();

  private final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    final int metricsPort;
    Process process;

    Member(String name, int clientPort, int peerPort, int metricsPort) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
      this.metricsPort = metricsPort;
    }
  }

  private final Timing timing;

  private EtcdCluster(Path binary, Path dir, ClientTls clientTls, Timing timing) {
    this.binary = binary;
    this.dir = dir;
    this.clientTls = clientTls;
    this.timing = timing;
  }

  /** Starts {@code size} members and waits (bounded) until the cluster has a leader. */
  public static EtcdCluster start(int size) {
    return start(BINARY, size);
  }

  /** {@link #start(int)} with another etcd executable. */
  public static EtcdCluster start(Path binary, int size) {
    return start(binary, size, Timing.FAST_FAILOVER);
  }

  /** {@link #start(Path, int)} with the members' raft {@code timing}. */
  public static EtcdCluster start(Path binary, int size, Timing timing) {
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException(binary + " is missing: install Debian's etcd-server");
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("mw-etcd-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EtcdCluster cluster = null;
    try {
      Path tls = dir.resolve("tls");
      Certs.makeCa(tls, "ca");
      Certs.issue(tls, "ca", "member", "serverAuth,clientAuth");
      Certs.issue(tls, "ca", "client", "clientAuth");
      cluster = new EtcdCluster(binary, dir, new ClientTls(tls.resolve("ca.crt"), tls.resolve("client.crt"),
          tls.resolve("client.key")), timing);
      for (int i = 0; i < size; i++) {
        cluster.members.add(cluster.new Member("m" + i, freePort(), freePort(), freePort()));
      }
      for (int i = 0; i < size; i++) {
        cluster.launch(i);
      }
      cluster.awaitLeader(Duration.ofSeconds(30));
      return cluster;
    } catch (RuntimeException e) {
      if (cluster != null) {
        cluster.close();
      } else {
        deleteTree(dir);
      }
      throw e;
    }
  }

  /**
   * Client TLS files signed by a CA the cluster does not trust (for "wrong certificate" tests),
   * written under this cluster's directory.
   */
  public ClientTls foreignClientTls() {
    Path tls = dir.resolve("foreign-tls");
    Certs.makeCa(tls, "ca");
    Certs.issue(tls, "ca", "client", "clientAuth");
    return new ClientTls(tls.resolve("ca.crt"), tls.resolve("client.crt"), tls.resolve("client.key"));
  }

  public ClientTls clientTls() {
    return clientTls;
  }

  /**
   * The hub settings ({@code HubConfig} keys, mutable) of a replica on this cluster connecting
   * with {@code tls}: store, endpoints and the client TLS files.
   */
  public java.util.Map<String, String> hubSettings(ClientTls tls) {
    java.util.Map<String, String> s = new java.util.HashMap<>();
    s.put("store", "etcd");
    s.put("etcd-endpoints", String.join(",", endpoints()));
    s.put("etcd-ca", tls.ca().toString());
    s.put("etcd-cert", tls.cert().toString());
    s.put("etcd-key", tls.key().toString());
    return s;
  }

  /** {@code https://127.0.0.1:port} of every member, in member order. */
  public List<String> endpoints() {
    return members.stream().map(m -> "https://127.0.0.1:" + m.clientPort).toList();
  }

  public String endpoint(int member) {
    return endpoints().get(member);
  }

  public int size() {
    return members.size();
  }

  public Path dir() {
    return dir;
  }

  /** The member's process ID. */
  public long pid(int member) {
    return members.get(member).process.pid();
  }

  public boolean isRunning(int member) {
    Process p = members.get(member).process;
    return p != null && p.isAlive();
  }

  /** The member that is leader now, or -1 (asked over each member's plain-HTTP metrics port). */
  public int leader() {
    for (int i = 0; i < members.size(); i++) {
      if (isRunning(i) && metric(i, "etcd_server_is_leader") == 1.0) {
        return i;
      }
    }
    return -1;
  }

  /** Waits (bounded) until a member is leader and returns it. */
  public int awaitLeader(Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      int leader = leader();
      if (leader >= 0) {
        return leader;
      }
      pause(100);
    }
    throw new IllegalStateException("etcd cluster has no leader within " + within.toSeconds() + "s (logs in "
        + dir + ")");
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill(int member) {
    Member m = members.get(member);
    if (m.process != null) {
      m.process.destroyForcibly();
      waitGone(m.process);
    }
  }

  /** SIGTERM (SIGKILL after 5 s). */
  public void stop(int member) {
    Member m = members.get(member);
    if (m.process != null) {
      m.process.destroy();
      try {
        if (!m.process.waitFor(5, TimeUnit.SECONDS)) {
          m.process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        m.process.destroyForcibly();
      }
      waitGone(m.process);
    }
  }

  /**
   * SIGSTOP: the member keeps its connections open but answers nothing (a hung process, the case
   * keep-alives and watch supervision exist for). {@link #resume} (or {@link #close}) continues it.
   */
  public void suspend(int member) {
    signal(member, "STOP");
  }

  /** SIGCONT for a member {@link #suspend}ed before. */
  public void resume(int member) {
    signal(member, "CONT");
  }

  private void signal(int member, String signal) {
    Member m = members.get(member);
    if (m.process == null || !m.process.isAlive()) {
      throw new IllegalStateException("member " + member + " is not running");
    }
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(m.process.pid())).inheritIO().start();
      if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + m.process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts a stopped member again on its data directory and ports; waits until it is healthy. */
  public void restart(int member) {
    if (isRunning(member)) {
      throw new IllegalStateException("member " + member + " is running");
    }
    launch(member);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline && !metricsAnswer(member)) {
      pause(100);
    }
  }

  private void launch(int index) {
    Member m = members.get(index);
    Path tls = dir.resolve("tls");
    StringBuilder initial = new StringBuilder();
    for (Member other : members) {
      if (!initial.isEmpty()) {
        initial.append(',');
      }
      initial.append(other.name).append("=https://127.0.0.1:").append(other.peerPort);
    }
    List<String> cmd = List.of(binary.toString(),
        "--name", m.name,
        "--data-dir", dir.resolve(m.name).toString(),
        "--listen-client-urls", "https://127.0.0.1:" + m.clientPort,
        "--advertise-client-urls", "https://127.0.0.1:" + m.clientPort,
        "--listen-peer-urls", "https://127.0.0.1:" + m.peerPort,
        "--initial-advertise-peer-urls", "https://127.0.0.1:" + m.peerPort,
        "--initial-cluster", initial.toString(),
        "--initial-cluster-state", "new",
        "--initial-cluster-token", dir.getFileName().toString(),
        "--listen-metrics-urls", "http://127.0.0.1:" + m.metricsPort,
        "--cert-file", tls.resolve("member.crt").toString(),
        "--key-file", tls.resolve("member.key").toString(),
        "--client-cert-auth",
        "--trusted-ca-file", tls.resolve("ca.crt").toString(),
        "--peer-cert-file", tls.resolve("member.crt").toString(),
        "--peer-key-file", tls.resolve("member.key").toString(),
        "--peer-client-cert-auth",
        "--peer-trusted-ca-file", tls.resolve("ca.crt").toString(),
        "--heartbeat-interval", Long.toString(timing.heartbeat().toMillis()),
        "--election-timeout", Long.toString(timing.election().toMillis()),
        "--logger", "zap",
        "--log-level", "warn");
    try {
      Path log = dir.resolve(m.name + ".log");
      m.process = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start etcd member " + m.name + ": " + e.getMessage(), e);
    }
    LIVE.add(m.process.toHandle());
  }

  private boolean metricsAnswer(int member) {
    return !Double.isNaN(metric(member, "etcd_server_has_leader"));
  }

  /** A metric of a member (first sample), NaN when it does not answer. */
  public double metric(int member, String name) {
    return io.meshwire.netlab.lab.MetricsScrape.firstSample(members.get(member).metricsPort, name,
        Duration.ofSeconds(2));
  }

  @Override
  public void close() {
    for (Member m : members) {
      if (m.process != null) {
        m.process.destroyForcibly();
        waitGone(m.process);
      }
    }
    deleteTree(dir);
  }

  private static void waitGone(Process p) {
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LIVE.remove(p.toHandle());
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis); // polling a child process's readiness, bounded by the caller's deadline
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temp directory left behind is not worth failing a test for.
    }
  }

  /** Test certificates via the {@code openssl} command (ECDSA P-256, valid two days). */
  static final class Certs {
    private Certs() {}

    static void makeCa(Path dir, String name) {
      mkdirs(dir);
      openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/CN=meshwire-test-" + name);
    }

    static void issue(Path dir, String ca, String name, String usage) {
      openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name);
      try {
        Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            + "extendedKeyUsage=" + usage + "\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
          "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext");
    }

    private static void mkdirs(Path dir) {
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static void openssl(Path dir, String... args) {
      List<String> cmd = new ArrayList<>(List.of("openssl"));
      cmd.addAll(List.of(args));
      try {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("openssl.log").toFile())).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
          p.destroyForcibly();
          throw new IllegalStateException("openssl " + String.join(" ", args) + " failed (see "
              + dir.resolve("openssl.log") + ")");
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot run openssl: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }
}
