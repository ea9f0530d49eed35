package io.meshwire.agent.wireguard;

import io.meshwire.agent.exec.CommandFailedException;
import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.netaddr.Cidr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code WgToolsWireGuard} is the {@link WireGuard} driver built on the standard tools: {@code ip
 * link} creates the interface, {@code wg set} configures it and {@code wg show IF dump} reads it
 * back. The tools drive the kernel module and wireguard-go the same way.
 *
 * <p>Creating an interface tries {@code ip link add IF type wireguard} first ({@link
 * Backend#AUTO}); where the kernel has no WireGuard it starts {@code wireguard-go -f IF} and waits
 * (bounded by {@link Config#startTimeout()}) until {@code wg show IF} answers. wireguard-go keeps its
 * UAPI socket in the host-wide {@code /var/run/wireguard}, so userspace interface names must be
 * unique across network namespaces.
 *
 * <p>The data plane outlives the agent: wireguard-go runs detached ({@link
 * CommandRunner#startDetached}: its own session, output appended to {@code
 * wireguard-go-IF.log} in {@link Config#outputDir()}, no pipe to this JVM), so an agent that exits
 * or is killed leaves it serving, and the next agent adopts it: an interface that exists and answers
 * is used as it is, and its wireguard-go process is found by its command line to watch and report.
 * {@link #deleteInterface} and {@link #close} stop wireguard-go by PID; if it dies on its own the
 * driver logs a warning with its last output lines and the next {@link #ensureInterface} starts a
 * new one.
 *
 * <p>The private key goes to {@code wg} through stdin ({@code private-key /dev/stdin}), never argv.
 *
 * <p>Thread-safe. {@link #ensureInterface}, {@link #deleteInterface} and {@link #close} are
 * serialised by one lock (they start and stop children); the other methods only run {@code wg}.
 */
public final class WgToolsWireGuard implements WireGuard, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WgToolsWireGuard.class);
  private static final Pattern IF_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
  private static final Duration READY_POLL = Duration.ofMillis(50);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  private static final int OUTPUT_LINES_SHOWN = 20;
  /** A wireguard-go output file above this size is rotated (to {@code .1}) when a new one starts. */
  private static final long OUTPUT_ROTATE_BYTES = 8L * 1024 * 1024;

  /** Which WireGuard implementation creates interfaces. */
  public enum Backend {
    /** The kernel module when {@code ip link add} accepts the type, else wireguard-go. */
    AUTO,
    /** The kernel module only. */
    KERNEL,
    /** wireguard-go only. */
    USERSPACE
  }

  /**
   * {@code Config} of the driver. Immutable.
   *
   * @param backend which implementation creates interfaces
   * @param userspaceProgram the wireguard-go executable, looked up on {@code PATH}
   * @param commandTimeout for each {@code ip} and {@code wg} invocation
   * @param startTimeout how long a new wireguard-go may take until {@code wg show} answers
   * @param outputDir where wireguard-go's output goes ({@code wireguard-go-IF.log}); the agent uses
   *     its state directory
   */
  public record Config(
      Backend backend, String userspaceProgram, Duration commandTimeout, Duration startTimeout, Path outputDir) {
    public Config {
      Objects.requireNonNull(outputDir, "wireguard outputDir");
      Objects.requireNonNull(backend, "wireguard backend");
      if (userspaceProgram == null || userspaceProgram.isBlank()) {
        throw new IllegalArgumentException("wireguard userspaceProgram: must not be blank");
      }
      if (commandTimeout == null || commandTimeout.isNegative() || commandTimeout.isZero()) {
        throw new IllegalArgumentException("wireguard commandTimeout " + commandTimeout + ": must be positive");
      }
      if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
        throw new IllegalArgumentException("wireguard startTimeout " + startTimeout + ": must be positive");
      }
    }

    /** AUTO, {@code wireguard-go}, 10 s per command, 10 s to start, output to the temporary directory. */
    public static Config defaults() {
      return new Config(Backend.AUTO, "wireguard-go", Duration.ofSeconds(10), Duration.ofSeconds(10),
          Path.of(System.getProperty("java.io.tmpdir")));
    }

    public Config withBackend(Backend newBackend) {
      return new Config(newBackend, userspaceProgram, commandTimeout, startTimeout, outputDir);
    }

    public Config withOutputDir(Path dir) {
      return new Config(backend, userspaceProgram, commandTimeout, startTimeout, dir);
    }
  }

  /**
   * A wireguard-go process serving an interface: started by this driver, or adopted from an agent
   * before it. {@code outputFrom} is where this process's lines begin in {@code output}.
   */
  private record Child(ProcessHandle process, Path output, long outputFrom) {
    /** Its last lines, joined with " | ", for messages. */
    String lastOutput() {
      try (var in = Files.newInputStream(output)) {
        in.skipNBytes(Math.min(outputFrom, Files.size(output)));
        List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
            .filter(l -> !l.isBlank()).toList();
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - OUTPUT_LINES_SHOWN), lines.size()));
      } catch (IOException e) {
        return "(output " + output + " unreadable: " + e.getMessage() + ")";
      }
    }
  }

  private final CommandRunner runner;
  private final Config config;
  private final ReentrantLock lifecycle = new ReentrantLock();

  /** Written under {@link #lifecycle}; an exit callback removes a child that died on its own. */
  private final Map<String, Child> children = new ConcurrentHashMap<>();

  public WgToolsWireGuard(CommandRunner runner, Config config) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.config = Objects.requireNonNull(config, "config");
  }

  /** With {@link Config#defaults()}. */
  public WgToolsWireGuard(CommandRunner runner) {
    this(runner, Config.defaults());
  }

  @Override
  public void ensureInterface(
      String ifName, int listenPort, String privateKey, Optional<Cidr> interfaceAddress) {
    checkIfName(ifName);
    if (listenPort < 1 || listenPort > 65535) {
      throw new IllegalArgumentException(
          "interface " + ifName + ": listen port " + listenPort + " out of range 1..65535");
    }
    String key = WgKeys.canonical(privateKey, "interface " + ifName + " private key", false);
    Objects.requireNonNull(interfaceAddress, "interfaceAddress");
    lifecycle.lock();
    try {
      if (!linkExists(ifName)) {
        create(ifName);
      } else if (!answers(ifName)) {
        throw new IllegalStateException(
            "interface " + ifName + " exists but wg cannot read it: not a WireGuard interface?");
      } else if (!children.containsKey(ifName)) {
        adopt(ifName);
      }
      configure(ifName, listenPort, key);
      if (interfaceAddress.isPresent()) {
        Cidr address = interfaceAddress.get();
        wg(List.of("ip", address.isIpv4() ? "-4" : "-6", "address", "replace", address.toString(),
            "dev", ifName));
      }
      wg(List.of("ip", "link", "set", "dev", ifName, "up"));
    } finally {
      lifecycle.unlock();
    }
  }

  @Override
  public WgInterfaceState show(String ifName) {
    checkIfName(ifName);
    return WgDump.parse(ifName, wg(List.of("wg", "show", ifName, "dump")).stdout());
  }

  @Override
  public void setPeer(String ifName, WgPeer peer) {
    checkIfName(ifName);
    List<String> argv = new ArrayList<>(List.of("wg", "set", ifName, "peer", peer.publicKey()));
    peer.endpoint().ifPresent(e -> argv.addAll(List.of("endpoint", Endpoints.format(e))));
    argv.add("allowed-ips");
    argv.add(
        peer.allowedIps().stream()
            .distinct()
            .sorted()
            .map(Cidr::toString)
            .collect(Collectors.joining(",")));
    argv.add("persistent-keepalive");
    long keepalive = peer.persistentKeepalive().getSeconds();
    argv.add(keepalive == 0 ? "off" : Long.toString(keepalive));
    wg(argv);
    log.debug("wireguard peer set if={} peer={} endpoint={} allowedIps={}", ifName,
        WgKeys.shortKey(peer.publicKey()), peer.endpoint().map(Endpoints::format).orElse("(kept)"),
        peer.allowedIps());
  }

  @Override
  public void removePeer(String ifName, String publicKey) {
    checkIfName(ifName);
    String key = WgKeys.canonical(publicKey, "interface " + ifName + " peer public key", true);
    wg(List.of("wg", "set", ifName, "peer", key, "remove"));
    log.debug("wireguard peer removed if={} peer={}", ifName, WgKeys.shortKey(key));
  }

  @Override
  public void deleteInterface(String ifName) {
    checkIfName(ifName);
    lifecycle.lock();
    try {
      Child child = children.remove(ifName);
      if (child != null) {
        stop(ifName, child);
      }
      if (linkExists(ifName)) {
        wg(List.of("ip", "link", "del", "dev", ifName));
      }
      log.info("wireguard interface deleted if={}", ifName);
    } finally {
      lifecycle.unlock();
    }
  }

  /**
   * Stops every wireguard-go child this driver started, which removes their interfaces. Kernel
   * interfaces stay. Failures to delete one interface do not stop the others; the first is thrown.
   */
  @Override
  public void close() {
    RuntimeException first = null;
    for (String ifName : List.copyOf(children.keySet())) {
      try {
        deleteInterface(ifName);
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** The PID of the wireguard-go process serving {@code ifName}, if this driver started or adopted one. */
  public Optional<Long> userspacePid(String ifName) {
    return Optional.ofNullable(children.get(ifName)).map(c -> c.process().pid());
  }

  /**
   * Whether {@code ifName} answers {@code wg show}: a kernel interface in this namespace, or a
   * wireguard-go of that name in any namespace (through the shared UAPI socket directory).
   */
  public boolean serves(String ifName) {
    checkIfName(ifName);
    return answers(ifName);
  }

  /**
   * The private key of {@code ifName} when it exists in this network namespace and serves with a
   * key: what a previous agent set up. (The link check comes first: {@code wg} alone would also
   * reach a wireguard-go of the same name in another namespace through the shared UAPI directory.)
   */
  public Optional<String> runningPrivateKey(String ifName) {
    checkIfName(ifName);
    lifecycle.lock();
    try {
      if (!linkExists(ifName) || !answers(ifName)) {
        return Optional.empty();
      }
      String key = show(ifName).privateKey();
      return key.isEmpty() ? Optional.empty() : Optional.of(key);
    } finally {
      lifecycle.unlock();
    }
  }

  /** The file wireguard-go's output for {@code ifName} goes to. */
  public Path userspaceOutput(String ifName) {
    checkIfName(ifName);
    return config.outputDir().resolve("wireguard-go-" + ifName + ".log");
  }

  static void checkIfName(String ifName) {
    if (ifName == null || !IF_NAME.matcher(ifName).matches()) {
      throw new IllegalArgumentException(
          "interface name \"" + ifName + "\": must be 1..15 characters of [A-Za-z0-9_.-]");
    }
  }

  private void create(String ifName) {
    CommandFailedException kernelError = null;
    if (config.backend() != Backend.USERSPACE) {
      try {
        wg(List.of("ip", "link", "add", "dev", ifName, "type", "wireguard"));
        log.info("wireguard interface created if={} backend=kernel", ifName);
        return;
      } catch (CommandFailedException e) {
        if (config.backend() == Backend.KERNEL) {
          throw e;
        }
        kernelError = e;
        log.debug("wireguard kernel backend unavailable if={} reason={}", ifName, e.getMessage());
      }
    }
    try {
      startUserspace(ifName);
    } catch (RuntimeException e) {
      if (kernelError != null) {
        e.addSuppressed(kernelError);
      }
      throw e;
    }
  }

  private void startUserspace(String ifName) {
    List<String> argv = List.of(config.userspaceProgram(), "-f", ifName);
    Path output = userspaceOutput(ifName);
    long outputFrom = prepareOutput(output);
    Process process = runner.startDetached(argv, output);
    Child child = new Child(process.toHandle(), output, outputFrom);
    watch(ifName, child);
    long deadline = System.nanoTime() + config.startTimeout().toNanos();
    long maxPolls = config.startTimeout().toMillis() / READY_POLL.toMillis() + 1;
    for (long poll = 0; poll <= maxPolls; poll++) {
      if (!process.isAlive()) {
        children.remove(ifName, child);
        throw CommandFailedException.notRun(argv,
            "exited with " + process.exitValue() + " before " + ifName + " was ready: "
                + child.lastOutput(), null);
      }
      if (answers(ifName)) {
        log.info("wireguard interface created if={} backend=userspace pid={} output={}", ifName, process.pid(),
            output);
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        break;
      }
      try {
        // Doubles as the pause between polls and as an early exit check.
        process.waitFor(READY_POLL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    children.remove(ifName, child);
    stop(ifName, child);
    throw CommandFailedException.notRun(argv,
        "did not serve " + ifName + " within " + config.startTimeout() + ": " + child.lastOutput(), null);
  }

  /**
   * Takes over an interface that already serves (left by an agent before this one): finds the
   * wireguard-go process serving it, if any, to watch it and stop it on {@link #deleteInterface}.
   */
  private void adopt(String ifName) {
    Optional<ProcessHandle> process = ProcessHandle.allProcesses()
        .filter(p -> servesInterface(p, ifName))
        .findFirst();
    if (process.isEmpty()) {
      log.info("wireguard interface adopted if={} backend=kernel", ifName);
      return;
    }
    Path output = userspaceOutput(ifName);
    long outputFrom;
    try {
      outputFrom = Files.exists(output) ? Files.size(output) : 0;
    } catch (IOException e) {
      outputFrom = 0;
    }
    watch(ifName, new Child(process.get(), output, outputFrom));
    log.info("wireguard interface adopted if={} backend=userspace pid={} output={}", ifName, process.get().pid(),
        output);
  }

  /** Whether {@code p} is {@code <userspaceProgram> -f ifName} (wireguard-go's own command line). */
  private boolean servesInterface(ProcessHandle p, String ifName) {
    ProcessHandle.Info info = p.info();
    Optional<String> command = info.command();
    Optional<String[]> arguments = info.arguments();
    if (command.isEmpty() || arguments.isEmpty()) {
      return false;
    }
    String program = Path.of(config.userspaceProgram()).getFileName().toString();
    return Path.of(command.get()).getFileName().toString().equals(program)
        && List.of(arguments.get()).equals(List.of("-f", ifName));
  }

  private void watch(String ifName, Child child) {
    children.put(ifName, child);
    child.process().onExit().thenAccept(p -> {
      if (children.remove(ifName, child)) {
        log.warn("wireguard-go exited unexpectedly if={} pid={} output=\"{}\"", ifName, p.pid(), child.lastOutput());
      }
    });
  }

  /** Rotates a large output file; returns where the new process's lines will start. */
  private static long prepareOutput(Path output) {
    try {
      Files.createDirectories(output.toAbsolutePath().getParent());
      if (Files.exists(output) && Files.size(output) > OUTPUT_ROTATE_BYTES) {
        Files.move(output, output.resolveSibling(output.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
      }
      return Files.exists(output) ? Files.size(output) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException("wireguard-go output " + output + ": " + e.getMessage(), e);
    }
  }

  private void stop(String ifName, Child child) {
    ProcessHandle process = child.process();
    process.destroy(); // SIGTERM: wireguard-go closes the device, its tun and its socket
    try {
      try {
        process.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        log.warn("wireguard-go ignored SIGTERM if={} pid={}, killing", ifName, process.pid());
        process.destroyForcibly();
        process.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      log.warn("wireguard-go did not stop if={} pid={} error=\"{}\"", ifName, process.pid(), e.toString());
    }
    log.debug("wireguard-go stopped if={} pid={} alive={}", ifName, process.pid(), process.isAlive());
  }

  private void configure(String ifName, int listenPort, String privateKey) {
    WgInterfaceState current = show(ifName);
    List<String> argv = new ArrayList<>(List.of("wg", "set", ifName));
    if (current.listenPort() != listenPort) {
      argv.addAll(List.of("listen-port", Integer.toString(listenPort)));
    }
    boolean newKey = !current.privateKey().equals(privateKey);
    if (newKey) {
      argv.addAll(List.of("private-key", "/dev/stdin"));
    }
    if (argv.size() == 3) {
      return;
    }
    byte[] stdin = newKey ? (privateKey + "\n").getBytes(StandardCharsets.US_ASCII) : new byte[0];
    runner.run(argv, stdin, config.commandTimeout());
    log.debug("wireguard interface configured if={} listenPort={} keyChanged={}", ifName,
        listenPort, newKey);
  }

  private boolean linkExists(String ifName) {
    try {
      wg(List.of("ip", "link", "show", "dev", ifName));
      return true;
    } catch (CommandFailedException e) {
      if (!e.timedOut() && e.stderr().contains("does not exist")) {
        return false;
      }
      throw e;
    }
  }

  private boolean answers(String ifName) {
    try {
      wg(List.of("wg", "show", ifName, "dump"));
      return true;
    } catch (CommandFailedException e) {
      if (e.timedOut() || e.exitCode() == -1) {
        throw e;
      }
      return false;
    }
  }

  private CommandRunner.Result wg(List<String> argv) {
    return runner.run(argv, config.commandTimeout());
  }
}
