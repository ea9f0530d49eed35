package io.meshwire.hub.store;

import java.util.Arrays;
import java.util.Objects;

/**
 * {@code Snapshot}: the hub's whole state, encoded by the hub, as of {@code revision}. The array is
 * not copied: neither side may modify it after handing it over. Equality compares the bytes.
 */
public record Snapshot(long revision, byte[] state) {

  public Snapshot {
    if (revision < 1) {
      throw new IllegalArgumentException("snapshot revision must be >= 1, got " + revision);
    }
    Objects.requireNonNull(state, "state");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Snapshot s && s.revision == revision && Arrays.equals(s.state, state);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(revision) * 31 + Arrays.hashCode(state);
  }

  @Override
  public String toString() {
    return "Snapshot[revision=" + revision + ", bytes=" + state.length + "]";
  }
}
