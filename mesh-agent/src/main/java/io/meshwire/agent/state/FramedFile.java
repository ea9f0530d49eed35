package io.meshwire.agent.state;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.DateTimeException;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * {@code FramedFile} is the on-disk frame of the agent's own files ({@link StateFile}, the peer
 * catalog store): a 4-byte magic naming what the file holds, a format version byte, the payload
 * length and its CRC32C, then the payload. The magic differs per file so that one file copied over
 * another is refused rather than half-decoded. Also the one place that reads such a file and moves
 * a refused one aside ({@link #read}).
 * Stateless; thread-safe.
 */
public final class FramedFile {

  /** Magic, version, length, CRC32C. */
  public static final int HEADER = 4 + 1 + 4 + 4;

  private FramedFile() {}

  /**
   * What one kind of file looks like.
   *
   * @param magic 4 ASCII characters, e.g. {@code "MWAS"}
   * @param kind words for messages, e.g. {@code "meshwire agent state"}
   * @param maxPayload the largest payload accepted, in bytes (written or read)
   */
  public record Format(String magic, byte version, String kind, int maxPayload) {
    public Format {
      if (magic.getBytes(StandardCharsets.US_ASCII).length != 4) {
        throw new IllegalArgumentException("magic \"" + magic + "\" must be 4 ASCII characters");
      }
      if (maxPayload < 0) {
        throw new IllegalArgumentException("maxPayload " + maxPayload + " is negative");
      }
    }

    byte[] magicBytes() {
      return magic.getBytes(StandardCharsets.US_ASCII);
    }
  }

  /** The outcome of {@link #unframe}: the payload, or why the file is refused. */
  public sealed interface Unframed {
    record Payload(byte[] bytes) implements Unframed {}

    /**
     * @param reason a short code for metrics: {@code header}, {@code magic}, {@code version},
     *     {@code length}, {@code checksum}
     */
    record Refused(String reason, String problem) implements Unframed {}
  }

  /** {@code payload} with its header. */
  public static byte[] frame(Format format, byte[] payload) {
    if (payload.length > format.maxPayload()) {
      throw new IllegalArgumentException(format.kind() + " payload of " + payload.length + " bytes exceeds the limit of "
          + format.maxPayload());
    }
    CRC32C crc = new CRC32C();
    crc.update(payload);
    return ByteBuffer.allocate(HEADER + payload.length)
        .put(format.magicBytes())
        .put(format.version())
        .putInt(payload.length)
        .putInt((int) crc.getValue())
        .put(payload)
        .array();
  }

  /** Checks the header and checksum of a whole file's {@code bytes}. */
  public static Unframed unframe(Format format, byte[] bytes) {
    if (bytes.length < HEADER) {
      return new Unframed.Refused("header", "file is " + bytes.length + " bytes, shorter than its " + HEADER
          + "-byte header");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte[] magic = new byte[4];
    b.get(magic);
    if (!Arrays.equals(magic, format.magicBytes())) {
      return new Unframed.Refused("magic", "not a " + format.kind() + " file (bad magic)");
    }
    byte version = b.get();
    if (version != format.version()) {
      return new Unframed.Refused("version", "format version " + version + " is not supported (expected "
          + format.version() + ")");
    }
    int length = b.getInt();
    int crc = b.getInt();
    if (length < 0 || length > format.maxPayload()) {
      return new Unframed.Refused("length", "payload length " + Integer.toUnsignedString(length)
          + " exceeds the limit of " + format.maxPayload() + " bytes");
    }
    if (length != bytes.length - HEADER) {
      return new Unframed.Refused("length", "payload length " + length + " does not match the file ("
          + (bytes.length - HEADER) + " bytes)");
    }
    CRC32C c = new CRC32C();
    c.update(bytes, HEADER, length);
    if ((int) c.getValue() != crc) {
      return new Unframed.Refused("checksum", "checksum mismatch");
    }
    return new Unframed.Payload(Arrays.copyOfRange(bytes, HEADER, bytes.length));
  }

  /** A payload that frames correctly but does not hold what the file should. */
  public static final class Undecodable extends Exception {
    private static final long serialVersionUID = 1L;
    private final String reason;

    /** @param reason a short code for metrics, e.g. {@code decode} or {@code limits} */
    public Undecodable(String reason, String message) {
      super(message);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  /**
   * Turns a checked payload into what the file holds; a malformed payload throws
   * {@link Undecodable}, or a protobuf, argument or date exception (all reported as {@code decode}).
   */
  @FunctionalInterface
  public interface Decoder<T> {
    T decode(byte[] payload) throws Undecodable, InvalidProtocolBufferException;
  }

  /** The outcome of {@link #read}. */
  public sealed interface Read<T> {
    record Found<T>(T value) implements Read<T> {}

    record Missing<T>() implements Read<T> {}

    /**
     * The file was refused and now lives at {@code movedTo}.
     *
     * @param reason a short code for metrics: those of {@link Unframed.Refused}, {@code decode}, or
     *     the decoder's own
     */
    record MovedAside<T>(String reason, String problem, Path movedTo) implements Read<T> {}
  }

  /**
   * Reads a whole framed file: missing, or its payload through {@code decoder}; a file refused by
   * the frame or the decoder is moved aside ({@link #moveAside}), never applied, never deleted.
   * Callers log the outcome, with what they do next.
   */
  public static <T> Read<T> read(Path file, Format format, Decoder<T> decoder, InstantSource clock)
      throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new Read.Missing<>();
    }
    String reason;
    String problem;
    switch (unframe(format, bytes)) {
      case Unframed.Refused refused -> {
        reason = refused.reason();
        problem = refused.problem();
      }
      case Unframed.Payload payload -> {
        try {
          return new Read.Found<>(decoder.decode(payload.bytes()));
        } catch (InvalidProtocolBufferException | IllegalArgumentException | DateTimeException e) {
          reason = "decode";
          problem = "payload does not decode: " + e.getMessage();
        } catch (Undecodable e) {
          reason = e.reason();
          problem = e.getMessage();
        }
      }
    }
    return new Read.MovedAside<>(reason, problem, moveAside(file, clock));
  }

  /**
   * Moves {@code file} to an unused {@code <name>.corrupt-<millis>[-n]} next to it, never deleting
   * it (its bytes are kept for diagnosis): rename(2) replaces an existing target, so an earlier
   * corrupt file from the same millisecond must not be overwritten.
   */
  public static Path moveAside(Path file, InstantSource clock) throws IOException {
    return moveAside(file, "corrupt", clock);
  }

  /** Like {@link #moveAside(Path, InstantSource)}, to {@code <file>.<why>-<epoch millis>}. */
  public static Path moveAside(Path file, String why, InstantSource clock) throws IOException {
    String base = file.getFileName() + "." + why + "-" + clock.instant().toEpochMilli();
    Path aside = file.resolveSibling(base);
    for (int n = 1; Files.exists(aside, LinkOption.NOFOLLOW_LINKS); n++) {
      aside = file.resolveSibling(base + "-" + n);
    }
    Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
    return aside;
  }
}
