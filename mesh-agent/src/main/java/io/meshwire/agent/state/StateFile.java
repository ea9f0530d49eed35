package io.meshwire.agent.state;

import io.meshwire.agent.wire.AgentProtoMapper;
import io.meshwire.certs.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code StateFile} keeps the agent's {@link AgentState} in one file, mode 0600, written atomically
 * (temporary file, fsync, rename, fsync of the directory) so a crash leaves either the old or the
 * new state, never a mix. The file is framed ({@link FramedFile}) with magic {@code "MWAS"} and a
 * CRC32C of the payload. A file that fails any check is moved aside (never applied, never
 * deleted) and reported through {@link Loaded.Corrupt}.
 *
 * <p>The file is bound to the agent's {@link Identity}: every save records the cluster ID and mesh,
 * and a file of another cluster or mesh is moved aside too and reported through {@link
 * Loaded.Refused}, never applied (applying one made an agent take another cluster's WireGuard key
 * and list itself as a peer). A file from before the binding, without a cluster ID, is refused when
 * it lists this cluster among its peers.
 *
 * <p>Thread-safety: {@link #save} calls are serialized by this object's lock; {@link #load} is
 * meant for start-up.
 */
public final class StateFile {

  private static final Logger log = LoggerFactory.getLogger(StateFile.class);
  private static final FramedFile.Format FORMAT = new FramedFile.Format("MWAS", (byte) 1, "meshwire agent state",
      64 * 1024 * 1024);

  private final Path file;
  private final InstantSource clock;
  private volatile Identity identity;

  /**
   * Whose state this is.
   *
   * @param clusterId the agent's cluster ID
   * @param mesh the mesh (trust domain of its CA), empty when not known
   */
  public record Identity(String clusterId, String mesh) {
    public Identity {
      Objects.requireNonNull(clusterId, "clusterId");
      Objects.requireNonNull(mesh, "mesh");
    }

    /** Why a file recorded for {@code fileCluster}/{@code fileMesh} with these peers is not this agent's. */
    Optional<String> refusal(String fileCluster, String fileMesh, Set<String> peers) {
      if (!fileCluster.isEmpty() && !fileCluster.equals(clusterId)) {
        return Optional.of("state file belongs to cluster " + fileCluster + ", this agent is cluster " + clusterId);
      }
      if (fileCluster.isEmpty() && peers.contains(clusterId)) {
        return Optional.of("state file lists this cluster (" + clusterId + ") as its own peer: another cluster's");
      }
      if (!fileMesh.isEmpty() && !mesh.isEmpty() && !fileMesh.equals(mesh)) {
        return Optional.of("state file belongs to mesh " + fileMesh + ", this agent's mesh is " + mesh);
      }
      return Optional.empty();
    }
  }

  /** A file bound to no identity: for tests of other parts only. */
  public StateFile(Path file, InstantSource clock) {
    this(file, clock, new Identity("", ""));
  }

  public StateFile(Path file, InstantSource clock, Identity identity) {
    this.file = file;
    this.clock = clock;
    this.identity = Objects.requireNonNull(identity, "identity");
  }

  public Path path() {
    return file;
  }

  /**
   * Binds later saves to {@code identity}: after a rejoin the state belongs to the new mesh, and a
   * file still recorded for the mesh it left would be refused at the next start.
   */
  public void rebind(Identity identity) {
    this.identity = Objects.requireNonNull(identity, "identity");
  }

  /** The outcome of {@link #load}. */
  public sealed interface Loaded {
    record Found(AgentState state) implements Loaded {}

    record Missing() implements Loaded {}

    /** The file was unusable; it now lives at {@code movedTo}. */
    record Corrupt(String problem, Path movedTo) implements Loaded {}

    /** The file is of another cluster or mesh; it now lives at {@code movedTo}. */
    record Refused(String problem, Path movedTo) implements Loaded {}
  }

  /**
   * Reads the state file. First removes the temporary files a crash during a rewrite left in the
   * state directory (this file's {@code .tmp}, and those of the credentials and catalogs written
   * beside it): load runs at start-up, before anything writes there.
   */
  public Loaded load() throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    List<Path> removed = new ArrayList<>(AtomicFiles.deleteLeftoverTemps(dir));
    Path ownTemp = dir.resolve(file.getFileName() + ".tmp");
    if (Files.deleteIfExists(ownTemp)) {
      removed.add(ownTemp);
    }
    if (!removed.isEmpty()) {
      log.info("removed leftover temporary files dir={} count={} files={}", dir, removed.size(),
          removed.stream().map(p -> p.getFileName().toString()).toList());
    }
    record Decoded(io.meshwire.proto.agent.v1.AgentState proto, AgentState state) {}
    FramedFile.Read<Decoded> read = FramedFile.read(file, FORMAT, payload -> {
      var proto = io.meshwire.proto.agent.v1.AgentState.parseFrom(payload); // the wire form (same simple name)
      return new Decoded(proto, AgentProtoMapper.fromProto(proto));
    }, clock);
    return switch (read) {
      case FramedFile.Read.Missing<Decoded> missing -> new Loaded.Missing();
      case FramedFile.Read.MovedAside<Decoded> aside -> {
        log.warn("state file corrupt, moved aside file={} moved_to={} problem=\"{}\"", file, aside.movedTo(),
            aside.problem());
        yield new Loaded.Corrupt(aside.problem(), aside.movedTo());
      }
      case FramedFile.Read.Found<Decoded> found -> {
        Decoded d = found.value();
        Optional<String> refusal = identity.clusterId().isEmpty() ? Optional.empty()
            : identity.refusal(d.proto().getClusterId(), d.proto().getMesh(), d.state().peers().keySet());
        if (refusal.isEmpty()) {
          yield new Loaded.Found(d.state());
        }
        Path aside = FramedFile.moveAside(file, "refused", clock);
        log.warn("state file refused, moved aside, not applied file={} moved_to={} problem=\"{}\"", file, aside,
            refusal.get());
        yield new Loaded.Refused(refusal.get(), aside);
      }
    };
  }

  /** Writes {@code state} durably; returns it with {@code writtenAt} set. */
  public synchronized AgentState save(AgentState state) throws IOException {
    AgentState stamped = state.writtenAt(clock.instant());
    ByteBuffer out;
    try {
      out = ByteBuffer.wrap(FramedFile.frame(FORMAT, AgentProtoMapper.toProto(stamped).toBuilder()
          .setClusterId(identity.clusterId()).setMesh(identity.mesh()).build().toByteArray()));
    } catch (IllegalArgumentException tooLarge) {
      throw new IOException(tooLarge.getMessage(), tooLarge); // a file that could never load again
    }

    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
        while (out.hasRemaining()) {
          ch.write(out);
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      // A half-written temporary file (disk full, no atomic rename) is of no use to anyone.
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      if (e instanceof AtomicMoveNotSupportedException) {
        throw new IOException("state dir " + dir + " does not support atomic rename", e);
      }
      throw e;
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true); // make the rename itself durable
    }
    return stamped;
  }
}
