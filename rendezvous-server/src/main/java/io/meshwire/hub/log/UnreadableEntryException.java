package io.meshwire.hub.log;

import java.io.Serial;
import java.util.Optional;

/**
 * {@code UnreadableEntryException}: opening the log found a stored entry (or the snapshot) that the
 * validator refuses. The hub does not start on it and never rewrites its store by itself; the
 * message names the entry, the cluster and the reason, and the caller adds the repair command.
 */
public final class UnreadableEntryException extends RuntimeException {

  @Serial private static final long serialVersionUID = 1L;

  private final String clusterId;

  UnreadableEntryException(String where, String clusterId, String reason) {
    super(where + (clusterId == null ? "" : " (cluster \"" + clusterId + "\")") + " cannot be read back: " + reason,
        null, false, false);
    this.clusterId = clusterId;
  }

  /** The cluster whose records the entry holds, when known: what {@code --drop-cluster} takes. */
  public Optional<String> clusterId() {
    return Optional.ofNullable(clusterId);
  }
}
