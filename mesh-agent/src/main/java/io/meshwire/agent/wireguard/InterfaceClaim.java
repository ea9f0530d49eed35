package io.meshwire.agent.wireguard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code InterfaceClaim} makes one agent per WireGuard interface name on a host. wireguard-go's
 * UAPI sockets share one directory host-wide, so a second agent with the same interface name (in
 * any network namespace) would reach the first one's wireguard-go through its socket and overwrite
 * its key. The claim is an exclusive lock on {@code <dir>/<if>.lock}, held for the agent's life (the
 * kernel drops it when the process dies, however it dies), plus an owner record {@code
 * <dir>/<if>.owner} (pid, cluster, state dir) that names the owner in the refusal.
 *
 * <p>The record outlives its agent on purpose: the data plane does too. An agent of another state
 * directory that finds the interface still serving what the recorded owner left is refused as well
 * (it would take over a data plane that is not its own); the owner's restart is not.
 */
public final class InterfaceClaim implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(InterfaceClaim.class);
  /** Where claims live by default: host-wide, cleared at boot like the interfaces themselves. */
  public static final Path DEFAULT_DIR = Path.of("/run/meshwire");

  private final FileChannel channel;
  private final FileLock lock;

  private InterfaceClaim(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Claims {@code ifName} for the agent of {@code clusterId} with state in {@code stateDir}.
   *
   * @param serving whether the interface exists and serves now (to tell a left data plane from none)
   * @throws IllegalStateException naming the interface and its owner when another agent holds it,
   *     or when it serves a data plane another agent's state directory left
   */
  public static InterfaceClaim claim(Path dir, String ifName, String clusterId, Path stateDir, BooleanSupplier serving) {
    WgToolsWireGuard.checkIfName(ifName);
    Path lockFile = dir.resolve(ifName + ".lock");
    Path ownerFile = dir.resolve(ifName + ".owner");
    String self = stateDir.toAbsolutePath().normalize().toString();
    FileChannel channel = null;
    try {
      Files.createDirectories(dir);
      channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by this very process (another agent in the same JVM)
      }
      Map<String, String> owner = readOwner(ownerFile);
      if (lock == null) {
        throw new IllegalStateException("interface " + ifName + " is in use by another meshwire agent ("
            + describe(owner) + "); give this agent another interface name, or stop that agent");
      }
      String ownerDir = owner.getOrDefault("state_dir", "");
      if (!ownerDir.isEmpty() && !ownerDir.equals(self) && serving.getAsBoolean()) {
        lock.release();
        throw new IllegalStateException("interface " + ifName + " serves the data plane of another meshwire agent ("
            + describe(owner) + ", not running); give this agent another interface name, or remove that data plane"
            + " (ip link del dev " + ifName + ") if its agent is gone for good");
      }
      Files.writeString(ownerFile, "pid=" + ProcessHandle.current().pid() + "\ncluster=" + clusterId + "\nstate_dir="
          + self + "\nsince=" + Instant.now() + "\n", StandardCharsets.UTF_8);
      log.debug("interface claimed if={} lock={}", ifName, lockFile);
      return new InterfaceClaim(channel, lock);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("cannot claim interface " + ifName + " in " + dir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private static Map<String, String> readOwner(Path ownerFile) throws IOException {
    Map<String, String> owner = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(ownerFile, StandardCharsets.UTF_8)) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          owner.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    } catch (NoSuchFileException e) {
      // no owner recorded yet
    }
    return owner;
  }

  private static String describe(Map<String, String> owner) {
    if (owner.isEmpty()) {
      return "owner not recorded";
    }
    return "pid " + owner.getOrDefault("pid", "?") + ", cluster " + owner.getOrDefault("cluster", "?")
        + ", state dir " + owner.getOrDefault("state_dir", "?");
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing more to release
      }
    }
  }

  /** Releases the claim (the owner record stays: the data plane does too). */
  @Override
  public void close() {
    try {
      Objects.requireNonNull(lock).release();
      channel.close();
    } catch (IOException e) {
      log.debug("interface claim release failed error=\"{}\"", e.getMessage());
    }
  }
}
