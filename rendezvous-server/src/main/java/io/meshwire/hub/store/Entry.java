package io.meshwire.hub.store;

import java.util.Arrays;
import java.util.Objects;

/**
 * {@code Entry}: one change of the log, as the opaque bytes the hub appended at {@code revision}.
 * The array is not copied: neither side may modify it after handing it over. Equality compares
 * the bytes.
 */
public record Entry(long revision, byte[] bytes) {

  public Entry {
    if (revision < 1) {
      throw new IllegalArgumentException("entry revision must be >= 1, got " + revision);
    }
    Objects.requireNonNull(bytes, "bytes");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Entry e && e.revision == revision && Arrays.equals(e.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(revision) * 31 + Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Entry[revision=" + revision + ", bytes=" + bytes.length + "]";
  }
}
