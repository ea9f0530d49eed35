package io.meshwire.hub.store;

import java.util.Objects;

/**
 * {@code RecoveryReport}: what opening a store found and repaired. Immutable.
 *
 * @param entriesRecovered entries returned after the snapshot
 * @param bytesDroppedFromTornTail bytes cut from the end of the last log segment because they held
 *     an incomplete or damaged record that a crash left behind (0 after a clean shutdown)
 * @param detail one line for humans: the torn tail's file, offset and reason, or "clean", and what
 *     was on disk
 */
public record RecoveryReport(int entriesRecovered, long bytesDroppedFromTornTail, String detail) {

  public RecoveryReport {
    Objects.requireNonNull(detail, "detail");
  }
}
