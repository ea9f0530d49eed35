package io.meshwire.hub.log;

import io.meshwire.hub.membership.MembershipEvent;

/**
 * {@code LogEntry} is one revision of the membership log: the event, its bytes as encoded once for
 * store and watchers alike, and when it was appended (for fan-out lag). Immutable; {@code encoded}
 * is shared and must not be modified.
 */
public record LogEntry(long revision, MembershipEvent event, byte[] encoded, long appendedNanos) {

  /** True when a watcher of {@code clusterId} may receive this entry. */
  public boolean isFor(String clusterId) {
    String addressee = event.addressee();
    return addressee == null || addressee.equals(clusterId);
  }
}
