package io.meshwire.hub.store;

import java.io.Serial;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * {@code StoreException}: the store could not read or write its files, or found them damaged in a
 * way it will not guess about. The message starts with the file and, where it matters, the byte
 * offset in it: {@code /var/lib/hub/log-00000000000000000001.seg at offset 4096: CRC mismatch}.
 * Immutable.
 */
public final class StoreException extends Exception {

  @Serial private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;

  /** A failure at {@code offset} (bytes from the start) of {@code file}. */
  public StoreException(Path file, long offset, String detail, Throwable cause) {
    super(file + (offset >= 0 ? " at offset " + offset : "") + ": " + detail, cause);
    this.file = Objects.requireNonNull(file, "file");
    this.offset = offset;
  }

  /** A failure at {@code offset} of {@code file}. */
  public StoreException(Path file, long offset, String detail) {
    this(file, offset, detail, null);
  }

  /** A failure about {@code file} as a whole. */
  public StoreException(Path file, String detail, Throwable cause) {
    this(file, -1, detail, cause);
  }

  /** A failure about {@code file} as a whole. */
  public StoreException(Path file, String detail) {
    this(file, -1, detail, null);
  }

  /** The file the failure is about (a directory for directory-wide failures). */
  public Path file() {
    return file;
  }

  /** The byte offset in {@link #file()}, when the failure is at one place. */
  public OptionalLong offset() {
    return offset >= 0 ? OptionalLong.of(offset) : OptionalLong.empty();
  }
}
