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
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code StateFile} keeps the agent's {@link AgentState} in one file, mode 0600, written atomically
 * (temporary file, fsync, rename, fsync of the directory) so a crash leaves either the old or the
 * new state, never a mix. The file is {@code "MWAS"}, a format version byte, the payload length and
 * its CRC32C, then the payload. A file that fails any check is moved aside (never applied, never
 * deleted) and reported through {@link Loaded.Corrupt}.
 *
 * <p>Thread-safety: {@link #save} calls are serialized by this object's lock; {@link #load} is
 * meant for start-up.
 */
public final class StateFile {

  private static final Logger log = LoggerFactory.getLogger(StateFile.class);
  private static final byte[] MAGIC = {'M', 'W', 'A', 'S'};
  private static final byte VERSION = 1;
  private static final int HEADER = MAGIC.length + 1 + 4 + 4;
  private static final int MAX_PAYLOAD = 64 * 1024 * 1024;

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

  public Loaded load() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new Loaded.Missing();
    }
    String problem = check(bytes);
    if (problem == null) {
      try {
        byte[] payload = java.util.Arrays.copyOfRange(bytes, HEADER, bytes.length);
        return new Loaded.Found(AgentProtoMapper.fromProto(io.meshwire.proto.agent.v1.AgentState.parseFrom(payload)));
      } catch (InvalidProtocolBufferException | IllegalArgumentException | java.time.DateTimeException e) {
        problem = "payload does not decode: " + e.getMessage();
      }
    }
    Path aside = moveAside();
    log.warn("state file corrupt, moved aside file={} moved_to={} problem=\"{}\"", file, aside, problem);
    return new Loaded.Corrupt(problem, aside);
  }

  /**
   * Moves the file to an unused {@code <name>.corrupt-<millis>[-n]}: rename(2) replaces an existing
   * target, so an earlier corrupt file from the same millisecond must not be overwritten.
   */
  private Path moveAside() throws IOException {
    String base = file.getFileName() + ".corrupt-" + clock.instant().toEpochMilli();
    Path aside = file.resolveSibling(base);
    for (int n = 1; Files.exists(aside, java.nio.file.LinkOption.NOFOLLOW_LINKS); n++) {
      aside = file.resolveSibling(base + "-" + n);
    }
    Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
    return aside;
  }

  private static String check(byte[] bytes) {
    if (bytes.length < HEADER) {
      return "file is " + bytes.length + " bytes, shorter than its " + HEADER + "-byte header";
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte[] magic = new byte[4];
    b.get(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      return "not a meshwire agent state file (bad magic)";
    }
    byte version = b.get();
    if (version != VERSION) {
      return "format version " + version + " is not supported (expected " + VERSION + ")";
    }
    int length = b.getInt();
    int crc = b.getInt();
    if (length < 0 || length > MAX_PAYLOAD || length != bytes.length - HEADER) {
      return "payload length " + length + " does not match the file (" + (bytes.length - HEADER) + " bytes)";
    }
    CRC32C c = new CRC32C();
    c.update(bytes, HEADER, length);
    if ((int) c.getValue() != crc) {
      return "checksum mismatch";
    }
    return null;
  }

  /** Writes {@code state} durably; returns it with {@code writtenAt} set. */
  public synchronized AgentState save(AgentState state) throws IOException {
    AgentState stamped = state.writtenAt(clock.instant());
    byte[] payload = AgentProtoMapper.toProto(stamped).toByteArray();
    CRC32C c = new CRC32C();
    c.update(payload);
    ByteBuffer out = ByteBuffer.allocate(HEADER + payload.length);
    out.put(MAGIC).put(VERSION).putInt(payload.length).putInt((int) c.getValue()).put(payload).flip();

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
