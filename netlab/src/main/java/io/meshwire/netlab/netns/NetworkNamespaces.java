package io.meshwire.netlab.netns;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code NetworkNamespaces} builds a small internet of Linux network namespaces for data-plane
 * tests, and removes it again.
 *
 * <p>Layout: one namespace {@code ID-inet} holds bridge {@code IDbr} with {@code 198.18.0.1/24}
 * (198.18.0.0/15 is reserved for benchmarks, and only ever used inside these namespaces). Each
 * {@link #addCluster cluster} {@code c} gets a gateway namespace {@code ID-c-gw}, attached to the
 * bridge by a veth pair and addressed {@code 198.18.0.(11+i)/24}, with IP forwarding on, and a
 * workload namespace {@code ID-c-wl} linked to the gateway by a second veth pair, holding the pod
 * CIDR's {@code .0.10} with a default route via the gateway's {@code .0.1}. Loopback is up
 * everywhere. {@code ID} is {@value #PREFIX} plus four random hex digits, so link names stay within
 * 15 characters and several runs can share a host.
 *
 * <p>Cleanup: everything created is tracked (namespaces, links, spawned PIDs) and {@link #close()}
 * removes it even after a failed test: first it stops every process still inside the namespaces
 * (such as wireguard-go children), by PID, then deletes the namespaces and any tracked link left in
 * the root namespace. A shutdown hook does the same if the JVM exits first. An owner file {@code
 * /run/meshwire-testnet/ID} records the owning JVM; {@link #sweepLeftovers()} (run before every
 * fixture is built) removes namespaces and wireguard-go sockets of owners that are no longer
 * alive, and leaves live runs alone.
 *
 * <p>Use it with try-with-resources ({@link #create()}). Tests register it as a JUnit 5 extension
 * through test-support's {@code NetworkNamespacesExtension}, which checks the requirements before
 * all tests and closes after them; this class itself is part of the product ({@code meshwire
 * demo}) and knows nothing of JUnit.
 *
 * <p>Thread-safe: all methods synchronise on the fixture.
 */
public class NetworkNamespaces implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NetworkNamespaces.class);

  /** Every name this fixture creates starts with this, followed by four hex digits. */
  public static final String PREFIX = "mwt";

  private static final Pattern OWNED = Pattern.compile("^(" + PREFIX + "[0-9a-f]{4})[-a-z0-9]*$");
  private static final Pattern OWNER_ID = Pattern.compile("^" + PREFIX + "[0-9a-f]{4}$");
  private static final Path OWNERS = Path.of("/run/meshwire-testnet");
  private static final Path WIREGUARD_SOCKETS = Path.of("/var/run/wireguard");
  private static final Pattern CLUSTER_NAME = Pattern.compile("[a-z0-9]{1,2}");
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  private static final int MAX_CLUSTERS = 100;

  private final String id;
  private final List<String> namespaces = new ArrayList<>();
  private final List<String> links = new ArrayList<>();
  private final List<Process> spawned = new ArrayList<>();
  private final Map<String, ClusterNet> clusters = new LinkedHashMap<>();
  private final Map<String, Host> hosts = new LinkedHashMap<>();
  private final Thread shutdownHook;
  private boolean started;
  private boolean closed;

  /** An unstarted fixture; {@link #start()} builds it. Subclasses only (the JUnit extension). */
  protected NetworkNamespaces() {
    this.id = PREFIX + HexFormat.of().toHexDigits((short) new SecureRandom().nextInt());
    this.shutdownHook = Thread.ofPlatform().unstarted(this::closeQuietly);
  }

  /** Sweeps leftovers of dead runs and builds the internet namespace now. */
  public static NetworkNamespaces create() {
    NetworkNamespaces net = new NetworkNamespaces();
    net.start();
    return net;
  }

  /** This run's prefix, e.g. {@code mwt3fa1}. */
  public String id() {
    return id;
  }

  /** The namespace that holds the bridge, "the internet". */
  public synchronized String internet() {
    requireStarted();
    return id + "-inet";
  }

  /**
   * Adds a cluster: gateway and workload namespaces, wired as described in the class comment.
   *
   * @param name one or two of {@code [a-z0-9]}, unique in this fixture
   * @param podCidr an IPv4 network with a prefix of 8..24 bits, e.g. {@code 10.101.0.0/16}
   */
  public synchronized ClusterNet addCluster(String name, String podCidr) {
    requireStarted();
    if (name == null || !CLUSTER_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("cluster name \"" + name + "\": must match " + CLUSTER_NAME);
    }
    if (clusters.containsKey(name)) {
      throw new IllegalArgumentException("cluster name \"" + name + "\": already added");
    }
    if (clusters.size() >= MAX_CLUSTERS) {
      throw new IllegalArgumentException("cluster \"" + name + "\": at most " + MAX_CLUSTERS);
    }
    int[] pod = parseIpv4Network(podCidr);
    int prefix = pod[1];
    String gatewayPod = formatIpv4(pod[0] + 1);
    String workloadPod = formatIpv4(pod[0] + 10);
    String publicAddress = "198.18.0." + (11 + clusters.size());
    String gw = id + "-" + name + "-gw";
    String wl = id + "-" + name + "-wl";
    String uplink = id + name + "u";
    String bridgePort = id + name + "b";
    String gwPod = id + name + "g";
    String wlPod = id + name + "w";

    addNamespace(gw);
    addNamespace(wl);
    veth(uplink, gw, bridgePort, internet());
    ip(internet(), "link", "set", "dev", bridgePort, "master", id + "br", "up");
    ip(gw, "address", "add", publicAddress + "/24", "dev", uplink);
    ip(gw, "link", "set", "dev", uplink, "up");
    veth(gwPod, gw, wlPod, wl);
    ip(gw, "address", "add", gatewayPod + "/" + prefix, "dev", gwPod);
    ip(gw, "link", "set", "dev", gwPod, "up");
    ip(wl, "address", "add", workloadPod + "/" + prefix, "dev", wlPod);
    ip(wl, "link", "set", "dev", wlPod, "up");
    ip(wl, "route", "add", "default", "via", gatewayPod);
    exec(gw, "sysctl", "-qw", "net.ipv4.ip_forward=1").orThrow();

    ClusterNet cluster = new ClusterNet(name, gw, wl, publicAddress, formatIpv4(pod[0]) + "/" + prefix,
        gatewayPod, workloadPod, id + name + "wg", uplink);
    clusters.put(name, cluster);
    log.debug("netns cluster added id={} cluster={}", id, cluster);
    return cluster;
  }

  /**
   * Adds a host on the test internet (a namespace with one address on the bridge and nothing
   * behind it), e.g. for the hub. Hosts take addresses from {@code 198.18.0.2} up.
   *
   * @param name one or two of {@code [a-z0-9]}, unique among this fixture's hosts
   * @return the namespace and its address
   */
  public synchronized Host addHost(String name) {
    requireStarted();
    if (name == null || !CLUSTER_NAME.matcher(name).matches() || hosts.containsKey(name)) {
      throw new IllegalArgumentException("host name \"" + name + "\": must match " + CLUSTER_NAME + " and be new");
    }
    if (hosts.size() >= 8) {
      throw new IllegalArgumentException("host \"" + name + "\": at most 8 hosts");
    }
    String address = "198.18.0." + (2 + hosts.size());
    String ns = id + "-" + name + "-h";
    String uplink = id + name + "hu";
    String bridgePort = id + name + "hb";
    addNamespace(ns);
    veth(uplink, ns, bridgePort, internet());
    ip(internet(), "link", "set", "dev", bridgePort, "master", id + "br", "up");
    ip(ns, "address", "add", address + "/24", "dev", uplink);
    ip(ns, "link", "set", "dev", uplink, "up");
    Host host = new Host(name, ns, address);
    hosts.put(name, host);
    return host;
  }

  /** A host on the test internet: its namespace and address (no prefix). */
  public record Host(String name, String namespace, String address) {}

  /**
   * Starts a long-running process inside {@code namespace} with stdout and stderr appended to
   * {@code logFile}. The fixture stops it (by PID) on {@link #close()}.
   */
  public synchronized Process spawn(String namespace, List<String> argv, Path logFile) {
    requireStarted();
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
    command.addAll(argv);
    try {
      Process process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .start();
      spawned.add(process);
      return process;
    } catch (IOException e) {
      throw new IllegalStateException(command + " could not be started: " + e.getMessage(), e);
    }
  }

  /** Runs {@code argv} inside {@code namespace} and returns its exit code and output. */
  public ExecResult exec(String namespace, String... argv) {
    return exec(namespace, Exec.TIMEOUT, argv);
  }

  /** Like {@link #exec(String, String...)}, killing the command after {@code timeout}. */
  public ExecResult exec(String namespace, Duration timeout, String... argv) {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
    command.addAll(List.of(argv));
    return Exec.run(command, timeout);
  }

  /** Whether {@code ping -c count -W 1} from {@code namespace} gets at least one reply. */
  public boolean ping(String namespace, String address, int count) {
    return exec(namespace, "ping", "-n", "-q", "-c", Integer.toString(count), "-W", "1", address).ok();
  }

  /**
   * Starts a long-running process inside {@code namespace}, output discarded. The fixture stops it
   * (by PID) on {@link #close()}.
   */
  public synchronized Process spawn(String namespace, List<String> argv) {
    requireStarted();
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
    command.addAll(argv);
    try {
      Process process = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      spawned.add(process);
      return process;
    } catch (IOException e) {
      throw new IllegalStateException(command + " could not be started: " + e.getMessage(), e);
    }
  }

  /** Namespaces created so far, in creation order. */
  public synchronized List<String> namespaces() {
    return List.copyOf(namespaces);
  }

  /**
   * Stops every process inside the fixture's namespaces and spawned by it, deletes the namespaces
   * and tracked links, and removes the owner file. Keeps going past failures and throws the first
   * at the end. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed || !started) {
      closed = true;
      return;
    }
    closed = true;
    List<String> failures = new ArrayList<>();
    for (Process process : spawned) {
      stop(process.toHandle());
    }
    for (String namespace : namespaces.reversed()) {
      removeNamespace(namespace).ifPresent(failures::add);
    }
    for (String link : links) {
      if (Exec.run(List.of("ip", "link", "show", "dev", link)).ok()) {
        ExecResult del = Exec.run(List.of("ip", "link", "del", "dev", link));
        if (!del.ok()) {
          failures.add("link " + link + ": " + del.stderr().strip());
        }
      }
    }
    removeSockets(id);
    try {
      Files.deleteIfExists(OWNERS.resolve(id));
    } catch (IOException e) {
      failures.add("owner file " + OWNERS.resolve(id) + ": " + e.getMessage());
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Closing from the hook itself: the JVM is already shutting down.
    }
    log.debug("netns fixture closed id={} namespaces={} failures={}", id, namespaces.size(), failures);
    if (!failures.isEmpty()) {
      throw new IllegalStateException("netns fixture " + id + " cleanup: " + String.join("; ", failures));
    }
  }

  /**
   * Removes namespaces, their processes and wireguard-go sockets left by fixtures whose JVM is gone
   * (crashed or killed runs). Live runs on the same host are left alone.
   *
   * @return the namespaces removed
   */
  public static List<String> sweepLeftovers() {
    List<String> removed = new ArrayList<>();
    ExecResult list = Exec.run(List.of("ip", "netns", "list"));
    if (!list.ok()) {
      return removed;
    }
    for (String line : list.stdout().lines().toList()) {
      String namespace = line.strip().split("\\s+")[0];
      Matcher m = OWNED.matcher(namespace);
      if (namespace.isEmpty() || !m.matches() || ownerAlive(m.group(1))) {
        continue;
      }
      removeNamespace(namespace).ifPresentOrElse(
          failure -> log.warn("netns sweep failed namespace={} reason={}", namespace, failure),
          () -> removed.add(namespace));
    }
    try (DirectoryStream<Path> sockets = Files.newDirectoryStream(WIREGUARD_SOCKETS, PREFIX + "*.sock")) {
      for (Path socket : sockets) {
        String name = socket.getFileName().toString();
        if (name.length() >= 7 && OWNED.matcher(name.substring(0, 7)).matches()
            && !ownerAlive(name.substring(0, 7))) {
          Files.deleteIfExists(socket);
        }
      }
    } catch (IOException e) {
      // No socket directory: nothing to sweep.
    }
    try (DirectoryStream<Path> owners = Files.newDirectoryStream(OWNERS)) {
      for (Path owner : owners) {
        String name = owner.getFileName().toString();
        // Only owner files proper: a fixture's temporary file is being written right now.
        if (OWNER_ID.matcher(name).matches() && !ownerAlive(name)) {
          Files.deleteIfExists(owner);
        }
      }
    } catch (IOException e) {
      // No owner directory yet.
    }
    if (!removed.isEmpty()) {
      log.info("netns sweep removed leftovers namespaces={}", removed);
    }
    return removed;
  }

  /** Sweeps leftovers of dead runs and builds the internet namespace; again is a no-op. */
  protected synchronized void start() {
    if (started) {
      return;
    }
    if (closed) {
      throw new IllegalStateException("netns fixture " + id + " is closed");
    }
    sweepLeftovers();
    try {
      Files.createDirectories(OWNERS);
      ProcessHandle self = ProcessHandle.current();
      // Written whole or not at all: a sweep in another JVM that read a half-written file would take
      // this live fixture for a dead one, delete its owner file and later its namespaces.
      Path written = Files.writeString(OWNERS.resolve("." + id + ".tmp"), self.pid() + " "
          + self.info().startInstant().map(Instant::toString).orElse("-") + "\n");
      Files.move(written, OWNERS.resolve(id), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException("netns fixture " + id + ": cannot write owner file: " + e.getMessage(), e);
    }
    started = true;
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      String inet = internet();
      addNamespace(inet);
      String bridge = id + "br";
      ip(inet, "link", "add", "name", bridge, "type", "bridge");
      links.add(bridge);
      ip(inet, "address", "add", "198.18.0.1/24", "dev", bridge);
      ip(inet, "link", "set", "dev", bridge, "up");
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
    log.debug("netns fixture started id={}", id);
  }

  private void addNamespace(String namespace) {
    Exec.run(List.of("ip", "netns", "add", namespace)).orThrow();
    namespaces.add(namespace);
    ip(namespace, "link", "set", "dev", "lo", "up");
  }

  private void veth(String name, String namespace, String peer, String peerNamespace) {
    Exec.run(List.of("ip", "link", "add", "name", name, "netns", namespace, "type", "veth",
        "peer", "name", peer, "netns", peerNamespace)).orThrow();
    links.add(name);
    links.add(peer);
  }

  private void ip(String namespace, String... args) {
    List<String> argv = new ArrayList<>(List.of("ip", "-n", namespace));
    argv.addAll(List.of(args));
    Exec.run(argv).orThrow();
  }

  private void requireStarted() {
    if (!started || closed) {
      throw new IllegalStateException(
          "netns fixture " + id + " is " + (closed ? "closed" : "not started: use create() or register it as an extension"));
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      log.warn("netns fixture cleanup incomplete id={} reason={}", id, e.getMessage());
    }
  }

  /** Stops all processes in {@code namespace} by PID, then deletes it. Returns a failure, if any. */
  private static Optional<String> removeNamespace(String namespace) {
    ExecResult pids = Exec.run(List.of("ip", "netns", "pids", namespace));
    if (pids.ok()) {
      for (String pid : pids.stdout().lines().map(String::strip).filter(s -> !s.isEmpty()).toList()) {
        ProcessHandle.of(Long.parseLong(pid)).ifPresent(NetworkNamespaces::stop);
      }
    }
    ExecResult del = Exec.run(List.of("ip", "netns", "del", namespace));
    if (!del.ok() && Files.exists(Path.of("/run/netns", namespace))) {
      return Optional.of("namespace " + namespace + ": " + del.stderr().strip());
    }
    return Optional.empty();
  }

  private static void stop(ProcessHandle process) {
    if (!process.isAlive() || process.pid() == ProcessHandle.current().pid()) {
      return;
    }
    process.destroy();
    try {
      process.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static void removeSockets(String id) {
    try (DirectoryStream<Path> sockets = Files.newDirectoryStream(WIREGUARD_SOCKETS, id + "*.sock")) {
      for (Path socket : sockets) {
        Files.deleteIfExists(socket);
      }
    } catch (IOException e) {
      // No socket directory: nothing to remove.
    }
  }

  /** Whether the JVM that wrote the owner file for {@code id} still runs. */
  private static boolean ownerAlive(String id) {
    Path owner = OWNERS.resolve(id);
    try {
      String[] fields = Files.readString(owner).strip().split(" ");
      long pid = Long.parseLong(fields[0]);
      Optional<ProcessHandle> handle = ProcessHandle.of(pid);
      if (handle.isEmpty() || !handle.get().isAlive()) {
        return false;
      }
      // A recycled PID has another start time.
      String started = handle.get().info().startInstant().map(Instant::toString).orElse("-");
      return fields.length < 2 || fields[1].equals("-") || fields[1].equals(started);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static int[] parseIpv4Network(String cidr) {
    Objects.requireNonNull(cidr, "podCidr");
    Matcher m = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})").matcher(cidr);
    if (!m.matches()) {
      throw new IllegalArgumentException("pod CIDR \"" + cidr + "\": not an IPv4 CIDR");
    }
    int address = 0;
    for (int i = 1; i <= 4; i++) {
      int octet = Integer.parseInt(m.group(i));
      if (octet > 255) {
        throw new IllegalArgumentException("pod CIDR \"" + cidr + "\": not an IPv4 CIDR");
      }
      address = (address << 8) | octet;
    }
    int prefix = Integer.parseInt(m.group(5));
    if (prefix < 8 || prefix > 24) {
      throw new IllegalArgumentException("pod CIDR \"" + cidr + "\": prefix must be 8..24 for this fixture");
    }
    int mask = -1 << (32 - prefix);
    if ((address & ~mask) != 0) {
      throw new IllegalArgumentException("pod CIDR \"" + cidr + "\": host bits set");
    }
    return new int[] {address, prefix};
  }

  private static String formatIpv4(int address) {
    return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff)
        + "." + (address & 0xff);
  }
}
