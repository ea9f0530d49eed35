package io.meshwire.netlab.lab;

import io.meshwire.netlab.netns.ClusterNet;
import io.meshwire.netlab.netns.Exec;
import io.meshwire.netlab.netns.ExecResult;
import io.meshwire.netlab.netns.NetworkNamespaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code MeshLab} runs a whole mesh on one machine: network namespaces for "the internet", a hub
 * host and N clusters (see {@link NetworkNamespaces}), the hub and one agent per cluster as
 * separate JVM processes from the built {@code meshwire.jar}, and the {@code meshwire} CLI for
 * admin actions. The end-to-end tests and {@code meshwire demo} both drive it.
 *
 * <p>Every process and namespace it makes is removed by {@link #close()}, by PID and name, also
 * after a failure. Logs of each process go to {@code <workDir>/<name>.log}. Not thread-safe: one
 * driver thread.
 */
public final class MeshLab implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MeshLab.class);
  private static final int HUB_PORT = 7443;
  private static final int HUB_METRICS_PORT = 9464;
  private static final int AGENT_HTTP_PORT = 9470;
  private static final int RELAY_METRICS_PORT = 9480;
  private static final int WG_PORT = 51820;

  private final NetworkNamespaces net;
  private final Path workDir;
  private final Path jar;
  private final String javaBin;
  private final NetworkNamespaces.Host hubHost;
  private final Map<String, ClusterNet> clusters = new LinkedHashMap<>();
  private final Map<String, Process> agents = new LinkedHashMap<>();
  private final Map<String, List<String>> agentFlags = new LinkedHashMap<>();
  private final List<UnixSocketRelay> relays = new ArrayList<>();
  private final Map<String, Process> apiRelays = new LinkedHashMap<>();
  private List<String> agentJvmOptions;
  /** Whether agents get a class data sharing archive each ({@code <workDir>/agent-<name>.jsa}). */
  private boolean agentClassArchives;
  /** Whether agents start as {@code -jar meshwire.jar agent} (see {@link #agentsLikeLaunchers}). */
  private boolean agentsLikeLaunchers;
  /** The jar agents start from, when not the lab's (see {@link #agentJar}). */
  private Path agentJar;
  private Process hub;
  // Hub replicas on etcd (startReplicated): replica i listens on HUB_PORT + i, metrics on HUB_METRICS_PORT + i.
  private final List<Process> replicas = new ArrayList<>();
  private List<String> etcdFlags = List.of();
  private int adminReplica;
  /** Standalone relays by name: their hosts (created before the hub, which lists them) and processes. */
  private final Map<String, NetworkNamespaces.Host> relayHosts = new LinkedHashMap<>();
  private final Map<String, Process> relayProcesses = new LinkedHashMap<>();
  private int relayPort;
  private List<String> relayArgs = List.of();
  /** Quick-starting JVMs for tests: small heap, serial GC, C1 only. */
  public static final List<String> TEST_JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private List<String> jvmOptions = TEST_JVM;

  private MeshLab(NetworkNamespaces net, Path workDir, Path jar) {
    this.net = net;
    this.workDir = workDir;
    this.jar = jar;
    this.javaBin = ProcessHandle.current().info().command().orElse("java");
    this.agentJvmOptions = AgentJvmOptions.fromJar(jar);
    this.agentClassArchives = true;
    this.hubHost = net.addHost("h");
  }

  /** Builds the namespaces and starts the hub. */
  public static MeshLab start(Path workDir, Path jar) throws IOException {
    MeshLab lab = create(workDir, jar);
    try {
      lab.startHub();
      return lab;
    } catch (RuntimeException | IOException e) {
      lab.close();
      throw e;
    }
  }

  /**
   * Builds the namespaces and starts {@code count} hub replicas sharing an etcd cluster that runs
   * outside the namespaces: each etcd client port is relayed into the hub host's loopback on the
   * same port (TLS passes through), so {@code etcdEndpoints} are used as they are. Replica 0
   * creates the mesh CA; the others mount copies, as an operator does. Agents list every replica.
   *
   * @param etcdTls the etcd client's CA, certificate and key files
   */
  public static MeshLab startReplicated(Path workDir, Path jar, int count, List<String> etcdEndpoints,
      List<Path> etcdTls) throws IOException {
    MeshLab lab = create(workDir, jar);
    NetworkNamespaces net = lab.net;
    try {
      for (String endpoint : etcdEndpoints) {
        int port = java.net.URI.create(endpoint).getPort();
        Path socket = workDir.resolve("etcd-" + port + ".sock");
        lab.relays.add(UnixSocketRelay.start(socket, port));
        Process socat = net.spawn(lab.hubHost.namespace(), List.of("socat",
            "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:" + socket),
            workDir.resolve("etcd-relay-" + port + ".log"));
        awaitTrue(() -> !socat.isAlive()
            || net.exec(lab.hubHost.namespace(), "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + port).ok(),
            Duration.ofSeconds(10), "the etcd relay in " + lab.hubHost.namespace());
      }
      lab.etcdFlags = List.of("--store", "etcd", "--etcd-endpoints", String.join(",", etcdEndpoints),
          "--etcd-ca", etcdTls.get(0).toString(), "--etcd-cert", etcdTls.get(1).toString(),
          "--etcd-key", etcdTls.get(2).toString(), "--etcd-prefix", "/" + net.id() + "/");
      for (int i = 0; i < count; i++) {
        if (i > 0) {
          FileTrees.copy(lab.replicaDataDir(0).resolve("ca"), lab.replicaDataDir(i).resolve("ca"));
          FileTrees.copy(lab.replicaDataDir(0).resolve("admin"), lab.replicaDataDir(i).resolve("admin"));
        }
        lab.replicas.add(null);
        lab.startReplica(i);
      }
      return lab;
    } catch (RuntimeException | IOException e) {
      lab.close();
      throw e;
    }
  }

  /**
   * Builds the namespaces, a host per relay name (198.18.0.3 up), starts the hub listing those
   * relays ({@code --relays}, all on {@code relayPort}), then each standalone relay ({@code meshwire
   * relay}) with a hub-role certificate issued from the hub's CA.
   */
  public static MeshLab startWithRelays(Path workDir, Path jar, List<String> relayNames, int relayPort)
      throws IOException {
    return startWithRelays(workDir, jar, relayNames, relayPort, TEST_JVM);
  }

  /**
   * Like {@link #startWithRelays(Path, Path, List, int)}, every process with {@code jvmOptions}
   * instead of {@link #TEST_JVM} (a benchmark wants the full JIT on the data path).
   */
  public static MeshLab startWithRelays(Path workDir, Path jar, List<String> relayNames, int relayPort,
      List<String> jvmOptions) throws IOException {
    MeshLab lab = create(workDir, jar);
    NetworkNamespaces net = lab.net;
    lab.relayPort = relayPort;
    lab.jvmOptions = List.copyOf(jvmOptions);
    try {
      for (String name : relayNames) {
        lab.relayHosts.put(name, net.addHost(name));
      }
      lab.startHub();
      for (String name : relayNames) {
        lab.startRelay(name);
      }
      return lab;
    } catch (RuntimeException | IOException e) {
      lab.close();
      throw e;
    }
  }

  /** {@code host:port} of a relay started by {@link #startWithRelays}. */
  public String relayAddress(String name) {
    return relayHosts.get(name).address() + ":" + relayPort;
  }

  /** Starts (or restarts) relay {@code name} and waits (bounded) for its READY line. */
  public void startRelay(String name) throws IOException {
    Path dir = workDir.resolve("relay-" + name);
    if (!Files.exists(dir.resolve("hub-relay.crt"))) {
      Files.createDirectories(dir);
      net.exec(hubHost.namespace(), Duration.ofSeconds(60), javaCommand("io.meshwire.cli.Main", "ca", "issue",
          "--dir", hubDataDir().resolve("ca").toString(), "--role", "hub", "--name", "relay",
          "--out", dir.toString()).toArray(String[]::new)).orThrow();
    }
    Path logFile = workDir.resolve("relay-" + name + ".log");
    long logOffset = sizeOf(logFile);
    List<String> args = new ArrayList<>(List.of("relay", "--listen", relayAddress(name), "--data-dir", dir.toString(),
        "--metrics-listen", "127.0.0.1:" + RELAY_METRICS_PORT, "--hub", hubAddress()));
    args.addAll(relayArgs);
    Process p = net.spawn(relayHosts.get(name).namespace(), javaCommand("io.meshwire.cli.Main",
        args.toArray(String[]::new)), logFile);
    relayProcesses.put(name, p);
    awaitLine(logFile, logOffset, "READY", p, Duration.ofSeconds(60));
  }

  /** Extra {@code meshwire relay} flags for relays started from now on (benchmarks compare settings). */
  public void relayArgs(List<String> args) {
    relayArgs = List.copyOf(args);
  }

  /** The network namespace relay {@code name} runs in (its host on the test internet). */
  public String relayNamespace(String name) {
    return relayHosts.get(name).namespace();
  }

  /** The PID of relay {@code name}'s process. */
  public long relayPid(String name) {
    return relayProcesses.get(name).pid();
  }

  /**
   * Drops (or stops dropping) every UDP datagram between the gateways of clusters {@code x} and
   * {@code y}, both ways, on the internet's bridge (nftables, bridge family): a firewall that
   * blocks the pair's direct path and nothing else (TCP to relays and the hub still flows).
   */
  public void blockUdp(String x, String y, boolean block) {
    String a = clusters.get(x).publicAddress();
    String b = clusters.get(y).publicAddress();
    String table = "mwblock" + x + y;
    String inet = net.internet();
    if (block) {
      net.exec(inet, "nft", "add", "table", "bridge", table).orThrow();
      net.exec(inet, "nft", "add chain bridge " + table + " udpdrop { type filter hook forward priority 0 ; }")
          .orThrow();
      net.exec(inet, "nft", "add rule bridge " + table + " udpdrop ip saddr { " + a + ", " + b + " } ip daddr { "
          + a + ", " + b + " } meta l4proto udp drop").orThrow();
    } else {
      net.exec(inet, "nft", "delete", "table", "bridge", table).orThrow();
    }
  }

  /** SIGKILLs relay {@code name}. */
  public void killRelay(String name) throws InterruptedException {
    Process p = relayProcesses.get(name);
    p.destroyForcibly();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  /** Adds a cluster as {@link #addCluster(String, String)} does, its join token made through hub replica {@code i}. */
  public ClusterNet addCluster(String name, String podCidr, int replica) throws IOException {
    adminReplica = replica;
    return addCluster(name, podCidr);
  }

  /** The namespaces (with the hub's host), no process yet. */
  private static MeshLab create(Path workDir, Path jar) throws IOException {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("meshwire jar not found at " + jar + " (build it: ./mvnw -pl cli -am package)");
    }
    Files.createDirectories(workDir);
    return new MeshLab(NetworkNamespaces.create(), workDir, jar);
  }

  /** Starts (or restarts) hub replica {@code i} and waits (bounded) until it listens. */
  public void startReplica(int i) throws IOException {
    Path logFile = workDir.resolve("hub-" + i + ".log");
    long logOffset = sizeOf(logFile);
    List<String> argv = new ArrayList<>(List.of("--data-dir", replicaDataDir(i).toString(),
        "--listen", replicaAddress(i),
        "--mesh", "lab.meshwire",
        "--hub-name", "hub-" + i,
        "--metrics-listen", "127.0.0.1:" + (HUB_METRICS_PORT + i),
        "--bookmark-interval", "5s"));
    argv.addAll(etcdFlags);
    Process p = net.spawn(hubHost.namespace(), javaCommand("io.meshwire.hub.server.HubMain",
        argv.toArray(String[]::new)), logFile);
    replicas.set(i, p);
    if (i == 0) {
      hub = p;
    }
    awaitLine(logFile, logOffset, "READY", p, Duration.ofSeconds(60));
  }

  /** SIGKILLs hub replica {@code i}. */
  public void killReplica(int i) throws InterruptedException {
    Process p = replicas.get(i);
    p.destroyForcibly();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  private List<String> hubRelayFlags() {
    if (relayHosts.isEmpty()) {
      return List.of();
    }
    return List.of("--relays", String.join(",", relayHosts.keySet().stream().map(this::relayAddress).toList()));
  }

  /** {@code host:port} of hub replica {@code i}. */
  public String replicaAddress(int i) {
    return hubHost.address() + ":" + (HUB_PORT + i);
  }

  /** Hub replica {@code i}'s Prometheus metrics. */
  public String replicaMetrics(int i) {
    return httpGet(hubHost.namespace(), HUB_METRICS_PORT + i, "/metrics");
  }

  /** Runs the meshwire CLI with the admin credential against hub replica {@code i}. */
  public ExecResult cliVia(int i, String... args) {
    List<String> argv = new ArrayList<>(javaCommand("io.meshwire.cli.Main", args));
    argv.addAll(List.of("--hub", replicaAddress(i), "--credentials", replicaDataDir(i).resolve("admin").toString()));
    return net.exec(hubHost.namespace(), Duration.ofSeconds(60), argv.toArray(String[]::new));
  }

  private Path replicaDataDir(int i) {
    return i == 0 ? hubDataDir() : workDir.resolve("hub-" + i);
  }

  /** What agents get as {@code --hub}: the hub, or every replica. */
  private String agentHubs() {
    if (replicas.isEmpty()) {
      return hubAddress();
    }
    List<String> all = new ArrayList<>();
    for (int i = 0; i < replicas.size(); i++) {
      all.add(replicaAddress(i));
    }
    return String.join(",", all);
  }

  public NetworkNamespaces net() {
    return net;
  }

  public String hubAddress() {
    return hubHost.address() + ":" + HUB_PORT;
  }

  public Path hubDataDir() {
    return workDir.resolve("hub");
  }

  public ClusterNet cluster(String name) {
    return clusters.get(name);
  }

  public List<String> clusterNames() {
    return List.copyOf(clusters.keySet());
  }

  /** Starts the hub process and waits (bounded) until it listens. */
  public void startHub() throws IOException {
    startHub("lab.meshwire");
  }

  /** Starts the hub process with the trust domain {@code mesh} for a new CA; waits (bounded) until it listens. */
  public void startHub(String mesh) throws IOException {
    if (hub != null && hub.isAlive()) {
      throw new IllegalStateException("hub already running");
    }
    long logOffset = sizeOf(workDir.resolve("hub.log"));
    hub = net.spawn(hubHost.namespace(), withFlags(javaCommand("io.meshwire.hub.server.HubMain",
        "--data-dir", hubDataDir().toString(),
        "--listen", hubAddress(),
        "--mesh", mesh,
        "--metrics-listen", "127.0.0.1:" + HUB_METRICS_PORT,
        "--bookmark-interval", "5s"), hubRelayFlags()), workDir.resolve("hub.log"));
    awaitLine(workDir.resolve("hub.log"), logOffset, "READY", hub, Duration.ofSeconds(60));
  }

  /** SIGKILLs the hub process. */
  public void killHub() throws InterruptedException {
    hub.destroyForcibly();
    hub.waitFor(10, TimeUnit.SECONDS);
  }

  /** Adds a cluster's namespaces, creates its join token and starts its agent. */
  public ClusterNet addCluster(String name, String podCidr) throws IOException {
    return addCluster(name, podCidr, 0, List.of());
  }

  /**
   * Like {@link #addCluster(String, String)}, its agent started with {@code extraAgentFlags} too
   * ({@code --setting value} flags, also on restarts).
   */
  public ClusterNet addCluster(String name, String podCidr, List<String> extraAgentFlags) throws IOException {
    return addCluster(name, podCidr, 0, extraAgentFlags);
  }

  /**
   * Adds a cluster whose agent runs Multi-Cluster Services reflection against the Kubernetes API
   * server listening on this JVM's loopback at {@code apiPort} (a test's fake API server). The
   * agent, in its gateway namespace, reaches it at {@code 127.0.0.1:6443} through a relay (a Unix
   * socket served by this JVM, and socat in the namespace); its peer channel listens on the
   * gateway's pod address, port 7444.
   *
   * @param extraAgentFlags more {@code --setting value} flags for this agent, also on restarts
   */
  public ClusterNet addClusterWithApiServer(String name, String podCidr, int apiPort, List<String> extraAgentFlags)
      throws IOException {
    List<String> flags = new ArrayList<>(List.of("--kubeconfig", workDir.resolve("kubeconfig-" + name).toString()));
    flags.addAll(extraAgentFlags);
    return addCluster(name, podCidr, apiPort, flags);
  }

  private ClusterNet addCluster(String name, String podCidr, int apiPort, List<String> extraAgentFlags)
      throws IOException {
    ClusterNet c = net.addCluster(name, podCidr);
    clusters.put(name, c);
    agentFlags.put(name, List.copyOf(extraAgentFlags));
    if (apiPort != 0) {
      connectApiServer(c, apiPort);
    }
    String[] create = {"token", "create", "--cluster", name, "--ttl", "1h"};
    String token = (replicas.isEmpty() ? cli(create) : cliVia(adminReplica, create)).orThrow().stdout().strip();
    Path stateDir = workDir.resolve("agent-" + name);
    Files.createDirectories(stateDir);
    Files.writeString(stateDir.resolve("join-token"), token);
    startAgent(name);
    return c;
  }

  /**
   * Replaces the agent JVM options (by default the jar's own, see {@link AgentJvmOptions}, and a
   * class data sharing archive per agent, written when it first exits) for agents started from
   * now on; the footprint benchmark compares option sets this way.
   */
  public void agentJvmOptions(List<String> options) {
    agentJvmOptions = List.copyOf(options);
    agentClassArchives = false;
  }

  /**
   * Starts agents from now on as the {@code meshwire} launcher and the container image do ({@code
   * -jar meshwire.jar agent} with the same flags) when {@code likeLaunchers}, else through their
   * main class (the default): the footprint benchmark measures what users run, and compares both.
   */
  public void agentsLikeLaunchers(boolean likeLaunchers) {
    agentsLikeLaunchers = likeLaunchers;
  }

  /**
   * Starts agents from now on from {@code jar} (another build of meshwire.jar), or from the lab's
   * jar when null; the hub stays as it is: the footprint benchmark compares two builds in one run.
   */
  public void agentJar(Path jar) {
    agentJar = jar;
  }

  /** The PID of {@code name}'s agent JVM ({@code ip netns exec} replaces itself with it). */
  public long agentPid(String name) {
    return agents.get(name).pid();
  }

  /**
   * Starts (or restarts) the agent of cluster {@code name} from its state directory and returns
   * the time from the spawn to its READY line (polled every 10 ms).
   */
  public Duration startAgent(String name) throws IOException {
    ClusterNet c = clusters.get(name);
    Process apiRelay = apiRelays.get(name);
    if (apiRelay != null && !apiRelay.isAlive()) {
      apiRelays.put(name, startApiRelay(c)); // killed with the rest of the gateway's processes
    }
    Path stateDir = workDir.resolve("agent-" + name);
    Path logFile = workDir.resolve("agent-" + name + ".log");
    long logOffset = sizeOf(logFile);
    long spawnedAt = System.nanoTime();
    Process p = net.spawn(c.gateway(), withFlags(agentJavaCommand(name, "io.meshwire.agent.AgentMain",
        "--cluster-id", name,
        "--state-dir", stateDir.toString(),
        "--hub", agentHubs(),
        "--hub-ca", hubDataDir().resolve("ca").resolve("ca.crt").toString(),
        "--join-token-file", stateDir.resolve("join-token").toString(),
        "--interface", c.wireGuardInterface(),
        "--listen-port", String.valueOf(WG_PORT),
        "--endpoint", c.publicAddress() + ":" + WG_PORT,
        "--pod-cidrs", c.podCidr(),
        "--peer-channel", c.gatewayPodAddress() + ":7444",
        "--metrics-listen", "127.0.0.1:" + AGENT_HTTP_PORT,
        "--status-interval", "1s",
        "--reconcile-interval", "5s"), agentFlags.getOrDefault(name, List.of())), logFile);
    agents.put(name, p);
    awaitLine(logFile, logOffset, "READY " + name, p, Duration.ofSeconds(60));
    return Duration.ofNanos(System.nanoTime() - spawnedAt);
  }

  private static List<String> withFlags(List<String> command, List<String> extra) {
    List<String> out = new ArrayList<>(command);
    out.addAll(extra);
    return out;
  }

  /**
   * Relays {@code 127.0.0.1:6443} in {@code c}'s gateway namespace to {@code 127.0.0.1:apiPort}
   * here, and writes {@code kubeconfig-<name>} pointing at it (plain HTTP, no credentials: the
   * fake API server asks for none).
   */
  private void connectApiServer(ClusterNet c, int apiPort) throws IOException {
    relays.add(UnixSocketRelay.start(apiSocket(c.name()), apiPort));
    apiRelays.put(c.name(), startApiRelay(c));
    Files.writeString(workDir.resolve("kubeconfig-" + c.name()), """
        apiVersion: v1
        kind: Config
        clusters:
        - name: %1$s
          cluster:
            server: http://127.0.0.1:6443
        users:
        - name: %1$s
          user: {}
        contexts:
        - name: %1$s
          context:
            cluster: %1$s
            user: %1$s
        current-context: %1$s
        """.formatted(c.name()));
  }

  private Path apiSocket(String name) {
    return workDir.resolve("api-" + name + ".sock");
  }

  /** socat in the gateway namespace: 127.0.0.1:6443 there to the relay's Unix socket. */
  private Process startApiRelay(ClusterNet c) {
    Process socat = net.spawn(c.gateway(), List.of("socat", "TCP-LISTEN:6443,bind=127.0.0.1,reuseaddr,fork",
        "UNIX-CONNECT:" + apiSocket(c.name())), workDir.resolve("api-relay-" + c.name() + ".log"));
    awaitTrue(() -> !socat.isAlive() || net.exec(c.gateway(), "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6443").ok(),
        Duration.ofSeconds(10), "the API relay in " + c.gateway());
    if (!socat.isAlive()) {
      throw new IllegalStateException("API relay (socat) exited; see api-relay-" + c.name() + ".log");
    }
    return socat;
  }

  /** Takes {@code name}'s gateway off the test internet (its tunnels and hub link with it), or back on. */
  public void setUplink(String name, boolean up) {
    ClusterNet c = clusters.get(name);
    net.exec(c.gateway(), "ip", "link", "set", "dev", c.uplink(), up ? "up" : "down").orThrow();
  }

  /** SIGKILLs only the agent process of {@code name} and waits for it; its data plane stays as the agent left it. */
  public void killAgent(String name) throws InterruptedException {
    Process p = agents.get(name);
    p.destroyForcibly();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("agent " + name + " still running 30 s after SIGKILL");
    }
  }

  /** The log file of {@code name}'s agent (all its runs). */
  public Path agentLog(String name) {
    return workDir.resolve("agent-" + name + ".log");
  }

  /**
   * SIGKILLs the agent of {@code name} and every other process in its gateway namespace (its
   * wireguard-go too, as when a pod dies), so the restarted agent must rebuild the tunnel.
   */
  public void killAgentAndDataPlane(String name) throws InterruptedException {
    Process p = agents.get(name);
    p.destroyForcibly();
    p.waitFor(10, TimeUnit.SECONDS);
    // Exec drains stdout and stderr together (a chatty child cannot block) and bounds the wait.
    ExecResult pids = Exec.run(List.of("ip", "netns", "pids", clusters.get(name).gateway())).orThrow();
    for (String pid : pids.stdout().split("\\s+")) {
      if (!pid.isBlank()) {
        ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    BooleanSupplier gone = () -> !net.exec(clusters.get(name).gateway(), "ip", "link", "show",
        clusters.get(name).wireGuardInterface()).ok();
    awaitTrue(gone, Duration.ofSeconds(10), "interface of " + name + " to disappear");
  }

  /**
   * Stops the agent of {@code name} (SIGTERM, then SIGKILL after 10 s) and nothing else: its
   * WireGuard interface and wireguard-go stay, as on an agent upgrade.
   */
  public void stopAgent(String name) throws InterruptedException {
    Process p = agents.get(name);
    p.destroy();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The agent's state directory. */
  public Path agentStateDir(String name) {
    return workDir.resolve("agent-" + name);
  }

  /** Runs the meshwire CLI inside {@code name}'s gateway namespace (where its agent runs), without admin credentials. */
  public ExecResult gatewayCli(String name, String... args) {
    return net.exec(clusters.get(name).gateway(), Duration.ofSeconds(60),
        javaCommand("io.meshwire.cli.Main", args).toArray(String[]::new));
  }

  /** Runs the meshwire CLI with the hub's admin credential, inside the hub's namespace. */
  public ExecResult cli(String... args) {
    List<String> argv = new ArrayList<>(javaCommand("io.meshwire.cli.Main", args));
    argv.addAll(List.of("--hub", hubAddress(), "--credentials", hubDataDir().resolve("admin").toString()));
    return net.exec(hubHost.namespace(), Duration.ofSeconds(60), argv.toArray(String[]::new));
  }

  /** Waits (bounded) until every workload of {@code names} pings every other one. */
  public void awaitFullMesh(List<String> names, Duration timeout) {
    for (String from : names) {
      for (String to : names) {
        if (!from.equals(to)) {
          awaitTrue(() -> ping(from, to, 1), timeout, "ping " + from + " -> " + to);
        }
      }
    }
  }

  /** Whether a ping from {@code from}'s workload to {@code to}'s workload gets a reply. */
  public boolean ping(String from, String to, int count) {
    return net.ping(clusters.get(from).workload(), clusters.get(to).workloadAddress(), count);
  }

  /** {@code ping -i interval -c count} from one workload to another; returns packets lost. */
  public int pingLoss(String from, String to, int count, Duration interval) {
    Duration budget = interval.multipliedBy(count).plusSeconds(10);
    ExecResult r = net.exec(clusters.get(from).workload(), budget, "ping", "-n", "-q", "-i",
        String.format(java.util.Locale.ROOT, "%.3f", interval.toMillis() / 1000.0), "-W", "1",
        "-c", String.valueOf(count), clusters.get(to).workloadAddress());
    var m = java.util.regex.Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(r.stdout());
    if (!m.find()) {
      throw new IllegalStateException("ping output not understood: " + r.stdout() + r.stderr());
    }
    return Integer.parseInt(m.group(1)) - Integer.parseInt(m.group(2));
  }

  /** The endpoint {@code from}'s WireGuard uses for {@code to} now ({@code wg show dump}), or "(no peer)". */
  public String wgEndpoint(String from, String to) {
    String key = wgDump(to).strip().split("\n")[0].split("\t")[1];
    for (String line : wgDump(from).strip().split("\n")) {
      String[] f = line.split("\t");
      if (f[0].equals(key)) {
        return f[2];
      }
    }
    return "(no peer)";
  }

  /** How cluster {@code observer} sees {@code peer}'s first pod CIDR, from the agent's /status. */
  public Optional<String> seenAs(String observer, String peer) {
    var m = java.util.regex.Pattern.compile("\\{\"cluster\":\"" + java.util.regex.Pattern.quote(peer)
        + "\"[^{}]*?(?:\\{[^{}]*\\}[^{}]*?)?\"seen_as\":\\[\"([^\"]+)\"").matcher(agentStatus(observer));
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /**
   * Starts a TCP server in {@code name}'s workload that answers each connection with the
   * client's address as it arrived (socat's SOCAT_PEERADDR), then closes.
   */
  public Process startEchoServer(String name, int port) {
    return net.spawn(clusters.get(name).workload(), List.of("socat", "TCP-LISTEN:" + port + ",fork,reuseaddr",
        "SYSTEM:echo $SOCAT_PEERADDR"), workDir.resolve("echo-" + name + ".log"));
  }

  /** Connects from {@code from}'s workload to {@code address:port}; returns the server's answer, or "". */
  public String tcpAsk(String from, String address, int port) {
    ExecResult r = net.exec(clusters.get(from).workload(), Duration.ofSeconds(10), "socat", "-T", "3", "-",
        "TCP:" + address + ":" + port + ",connect-timeout=2");
    return r.stdout().strip();
  }

  /** {@code wg show <if> dump} in the gateway of {@code name}. */
  public String wgDump(String name) {
    ClusterNet c = clusters.get(name);
    return net.exec(c.gateway(), "wg", "show", c.wireGuardInterface(), "dump").stdout();
  }

  /** The agent's {@code /status} JSON, fetched inside its namespace. */
  public String agentStatus(String name) {
    return httpGet(clusters.get(name).gateway(), AGENT_HTTP_PORT, "/status");
  }

  /** Relay {@code name}'s Prometheus metrics (drops by reason, datagrams forwarded). */
  public String relayMetrics(String name) {
    return httpGet(relayHosts.get(name).namespace(), RELAY_METRICS_PORT, "/metrics");
  }

  /** Agent {@code name}'s Prometheus metrics. */
  public String agentMetrics(String name) {
    return httpGet(clusters.get(name).gateway(), AGENT_HTTP_PORT, "/metrics");
  }

  /** The hub's Prometheus metrics. */
  public String hubMetrics() {
    return httpGet(hubHost.namespace(), HUB_METRICS_PORT, "/metrics");
  }

  /** One Prometheus sample's value (summed over label sets), or empty. */
  public static Optional<Double> metric(String scrape, String name) {
    double sum = 0;
    boolean found = false;
    for (String line : scrape.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? Optional.of(sum) : Optional.empty();
  }

  private String httpGet(String namespace, int port, String path) {
    // No curl on a minimal machine: bash's /dev/tcp speaks enough HTTP/1.0.
    String script = "exec 3<>/dev/tcp/127.0.0.1/" + port + " && printf 'GET " + path
        + " HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3 && cat <&3";
    ExecResult r = net.exec(namespace, "bash", "-c", script);
    String out = r.stdout();
    int body = out.indexOf("\r\n\r\n");
    return body < 0 ? "" : out.substring(body + 4);
  }

  private List<String> agentJavaCommand(String name, String mainClass, String... args) {
    // As the launchers do (`java @agent.jvm-options ... -jar meshwire.jar agent`; the jar's manifest
    // allows native access), or straight into the agent's main class.
    List<String> argv = new ArrayList<>(List.of(javaBin));
    if (!agentsLikeLaunchers) {
      argv.add("--enable-native-access=ALL-UNNAMED");
    }
    argv.addAll(agentJvmOptions);
    if (agentClassArchives) {
      argv.addAll(List.of("-XX:SharedArchiveFile=" + workDir.resolve("agent-" + name + ".jsa").toAbsolutePath(),
          "-XX:+AutoCreateSharedArchive"));
    }
    String from = (agentJar != null ? agentJar : jar).toString();
    argv.addAll(agentsLikeLaunchers ? List.of("-jar", from, "agent") : List.of("-cp", from, mainClass));
    argv.addAll(List.of(args));
    return argv;
  }

  private List<String> javaCommand(String mainClass, String... args) {
    List<String> argv = new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED"));
    argv.addAll(jvmOptions);
    argv.addAll(List.of("-cp", jar.toString(), mainClass));
    argv.addAll(List.of(args));
    return argv;
  }



  private static long sizeOf(Path file) throws IOException {
    return Files.exists(file) ? Files.size(file) : 0;
  }

  /**
   * Waits (bounded) until {@code logFile} has, after its first {@code offset} bytes (what earlier
   * runs of the process wrote), a line starting with {@code prefix}.
   */
  private static void awaitLine(Path logFile, long offset, String prefix, Process process, Duration timeout)
      throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(logFile)) {
        try (var in = Files.newInputStream(logFile)) {
          in.skipNBytes(Math.min(offset, Files.size(logFile)));
          String written = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
          if (written.lines().anyMatch(l -> l.startsWith(prefix))) {
            return;
          }
        }
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("process exited with " + process.exitValue() + " before \"" + prefix
            + "\"; see " + logFile);
      }
      pause(Duration.ofMillis(10));
    }
    throw new IllegalStateException("no \"" + prefix + "\" in " + logFile + " within " + timeout);
  }

  /** Polls {@code condition} every 100 ms until true or {@code timeout}; throws naming {@code what}. */
  public static void awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
      }
      pause(Duration.ofMillis(100));
    }
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d); // the poll interval of a bounded wait on another process
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    for (Process p : agents.values()) {
      p.destroyForcibly();
    }
    relays.forEach(UnixSocketRelay::close);
    relayProcesses.values().forEach(Process::destroyForcibly);
    if (hub != null) {
      hub.destroyForcibly();
    }
    replicas.stream().filter(java.util.Objects::nonNull).forEach(Process::destroyForcibly);
    net.close();
    // The agents' interface claims (lock and owner record, kept on purpose after an agent stops).
    for (ClusterNet c : clusters.values()) {
      for (String suffix : List.of(".lock", ".owner")) {
        try {
          Files.deleteIfExists(Path.of("/run/meshwire", c.wireGuardInterface() + suffix));
        } catch (IOException e) {
          log.warn("interface claim not removed if={} error=\"{}\"", c.wireGuardInterface(), e.getMessage());
        }
      }
    }
    log.info("mesh lab closed work_dir={}", workDir);
  }
}
