package io.meshwire.hub.store;

import java.util.List;
import java.util.Objects;

/**
 * {@code Recovered}: what a {@link MembershipStore} found on disk at open. Immutable.
 *
 * @param meshUid the mesh UID, created once on the first open of an empty directory
 * @param snapshot the latest snapshot, or null when none was ever written
 * @param entries every entry after the snapshot (or from revision 1), in revision order
 * @param report what recovery did, for logs and status
 */
public record Recovered(String meshUid, Snapshot snapshot, List<Entry> entries, RecoveryReport report) {

  public Recovered {
    Objects.requireNonNull(meshUid, "meshUid");
    entries = List.copyOf(entries);
    Objects.requireNonNull(report, "report");
  }

  /** The revision of the newest thing recovered (last entry, else the snapshot), 0 when empty. */
  public long lastRevision() {
    if (!entries.isEmpty()) {
      return entries.get(entries.size() - 1).revision();
    }
    return snapshot == null ? 0 : snapshot.revision();
  }
}
