package io.meshwire.agent.sync;

import io.meshwire.certs.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code CarriedPeers} are the peers an agent keeps when it adopts a new mesh (rejoin after hub data
 * loss) although the new hub does not list them yet: clusters that have not rejoined. Their
 * tunnels, routes and NAT stay as they are until they announce in the new mesh or the grace period
 * ends, so the clusters moving over one after the other lose no traffic between them.
 *
 * <p>Persisted next to the state file ({@code carried-peers}: the new mesh UID, the deadline, one
 * cluster ID per line; written atomically), so an agent restarted during the grace period still
 * knows which of its peers are only carried and drops them at the same deadline. A file of another
 * mesh than the state's is ignored and deleted. Without a file ({@link #inMemory}) nothing survives
 * a restart: for tests of the rules alone.
 *
 * <p>Not thread-safe: {@link MeshSync} calls it under its lock.
 */
public final class CarriedPeers {

  private static final Logger log = LoggerFactory.getLogger(CarriedPeers.class);

  /** How long a peer missing from the new mesh is kept: rejoin every cluster within it. */
  public static final Duration DEFAULT_GRACE = Duration.ofMinutes(15);

  private final Optional<Path> file;
  private final InstantSource clock;
  private final Duration grace;
  private String meshUid = "";
  private Instant deadline = Instant.MAX;
  private final Set<String> ids = new TreeSet<>();

  private CarriedPeers(Optional<Path> file, InstantSource clock, Duration grace) {
    this.file = file;
    this.clock = clock;
    this.grace = grace;
  }

  /** Rules only, nothing persisted. */
  public static CarriedPeers inMemory(InstantSource clock, Duration grace) {
    return new CarriedPeers(Optional.empty(), clock, grace);
  }

  /**
   * Loads {@code file} if it belongs to {@code stateMeshUid} (the mesh of the state the agent starts
   * with); a file of another mesh, or one that does not parse, is deleted and nothing is carried.
   */
  public static CarriedPeers load(Path file, InstantSource clock, Duration grace, String stateMeshUid) {
    CarriedPeers carried = new CarriedPeers(Optional.of(file), clock, grace);
    if (!Files.exists(file)) {
      return carried;
    }
    try {
      var lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      if (lines.size() >= 2 && lines.get(0).startsWith("mesh_uid ") && lines.get(1).startsWith("until ")) {
        String mesh = lines.get(0).substring("mesh_uid ".length()).strip();
        if (mesh.equals(stateMeshUid) && !mesh.isEmpty()) {
          carried.meshUid = mesh;
          carried.deadline = Instant.parse(lines.get(1).substring("until ".length()).strip());
          lines.subList(2, lines.size()).stream().map(String::strip).filter(l -> !l.isEmpty()).forEach(carried.ids::add);
          log.info("rejoin: still carrying peers={} until={}", carried.ids, carried.deadline);
          return carried;
        }
      }
      log.warn("rejoin: ignoring carried-peers file of another mesh or unreadable file={}", file);
    } catch (IOException | RuntimeException e) {
      log.warn("rejoin: ignoring unreadable carried-peers file={} error=\"{}\"", file, e.getMessage());
    }
    carried.clear();
    return carried;
  }

  /** The carried cluster IDs (empty when nothing is carried). */
  public Set<String> ids() {
    return Set.copyOf(ids);
  }

  public boolean contains(String clusterId) {
    return ids.contains(clusterId);
  }

  public Instant deadline() {
    return deadline;
  }

  /** Starts carrying {@code carriedIds} into mesh {@code newMeshUid}, until now plus the grace period. */
  void start(String newMeshUid, Set<String> carriedIds) {
    meshUid = newMeshUid;
    deadline = clock.instant().plus(grace);
    ids.clear();
    ids.addAll(carriedIds);
    persist();
  }

  /** {@code clusterId} is in the new mesh now (or was removed there): no longer carried. */
  boolean release(String clusterId) {
    if (!ids.remove(clusterId)) {
      return false;
    }
    persist();
    return true;
  }

  /** Whether the grace period is over while something is still carried. */
  boolean expired() {
    return !ids.isEmpty() && !clock.instant().isBefore(deadline);
  }

  void clear() {
    ids.clear();
    meshUid = "";
    deadline = Instant.MAX;
    persist();
  }

  private void persist() {
    if (file.isEmpty()) {
      return;
    }
    try {
      if (ids.isEmpty()) {
        Files.deleteIfExists(file.get());
        return;
      }
      StringBuilder text = new StringBuilder("mesh_uid ").append(meshUid).append("\nuntil ").append(deadline)
          .append('\n');
      ids.forEach(id -> text.append(id).append('\n'));
      AtomicFiles.write(file.get(), text.toString().getBytes(StandardCharsets.UTF_8), AtomicFiles.OWNER_ONLY);
    } catch (IOException e) {
      // The in-memory set still rules this process; a restart then keeps the peers until the hub removes them.
      log.error("rejoin: cannot write file={} error=\"{}\"", file.get(), e.toString());
    }
  }
}
