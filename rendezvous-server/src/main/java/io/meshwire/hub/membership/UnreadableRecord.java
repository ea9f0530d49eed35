package io.meshwire.hub.membership;

import java.io.Serial;
import java.util.Optional;

/**
 * {@code UnreadableRecord}: a record or view the hub wrote itself no longer passes the validator
 * (an older hub accepted it, or the address policy was tightened since). Recovery stops on it and
 * names the cluster, so the operator can quarantine that cluster's records with {@code meshwire hub
 * repair --drop-cluster}. Carries no stack trace: the message says it all.
 */
public final class UnreadableRecord extends RuntimeException {

  @Serial private static final long serialVersionUID = 1L;

  private final String clusterId;

  /** @param clusterId the cluster the record belongs to (a view's observer), null when not even that is valid */
  public UnreadableRecord(String clusterId, String reason) {
    super(reason, null, false, false);
    this.clusterId = clusterId;
  }

  public Optional<String> clusterId() {
    return Optional.ofNullable(clusterId);
  }
}
