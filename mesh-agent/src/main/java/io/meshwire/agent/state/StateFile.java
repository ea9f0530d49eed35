package io.meshwire.agent.state;

import com.google.protobuf.InvalidProtocolBufferException;
import io.meshwire.agent.wire.AgentProtoMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.InstantSource;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code StateFile} keeps the agent's {@link AgentState} in one file, mode 0600, written atomically
 * (temporary file, fsync, rename, fsync of the directory) so a crash leaves either the old or the
 * new state, never a mix. The file is framed ({@link FramedFile}) with magic {@code "MWAS"} and a
 * CRC32C of the payload. A file that fails any check is moved aside (never applied, never
 * deleted) and reported through {@link Loaded.Corrupt}.
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

  public StateFile(Path file, InstantSource clock) {
    this.file = file;
    this.clock = clock;
  }

  public Path path() {
    return file;
  }

  /** The outcome of {@link #load}. */
  public sealed interface Loaded {
    record Found(AgentState state) implements Loaded {}

    record Missing() implements Loaded {}

    /** The file was unusable; it now lives at {@code movedTo}. */
    record Corrupt(String problem, Path movedTo) implements Loaded {}
  }

  /**
   * Reads the state file. First removes the temporary files a crash during a rewrite left in the
   * state directory (this file's {@code .tmp}, and those of the credentials and catalogs written
   * beside it): load runs at start-up, before anything writes there.
   */
  public Loaded load() throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    List<Path> removed = new java.util.ArrayList<>(io.meshwire.certs.AtomicFiles.deleteLeftoverTemps(dir));
    Path ownTemp = dir.resolve(file.getFileName() + ".tmp");
    if (Files.deleteIfExists(ownTemp)) {
      removed.add(ownTemp);
    }
    if (!removed.isEmpty()) {
      log.info("removed leftover temporary files dir={} count={} files={}", dir, removed.size(),
          removed.stream().map(p -> p.getFileName().toString()).toList());
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new Loaded.Missing();
    }
    String problem;
    switch (FramedFile.unframe(FORMAT, bytes)) {
      case FramedFile.Unframed.Refused refused -> problem = refused.problem();
      case FramedFile.Unframed.Payload payload -> {
        try {
          return new Loaded.Found(AgentProtoMapper.fromProto(
              io.meshwire.proto.agent.v1.AgentState.parseFrom(payload.bytes())));
        } catch (InvalidProtocolBufferException | IllegalArgumentException | java.time.DateTimeException e) {
          problem = "payload does not decode: " + e.getMessage();
        }
      }
    }
    Path aside = FramedFile.moveAside(file, clock);
    log.warn("state file corrupt, moved aside file={} moved_to={} problem=\"{}\"", file, aside, problem);
    return new Loaded.Corrupt(problem, aside);
  }

  /** Writes {@code state} durably; returns it with {@code writtenAt} set. */
  public synchronized AgentState save(AgentState state) throws IOException {
    AgentState stamped = state.writtenAt(clock.instant());
    ByteBuffer out;
    try {
      out = ByteBuffer.wrap(FramedFile.frame(FORMAT, AgentProtoMapper.toProto(stamped).toByteArray()));
    } catch (IllegalArgumentException tooLarge) {
      throw new IOException(tooLarge.getMessage(), tooLarge); // a file that could never load again
    }

    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE_NEW,
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
