package io.meshwire.agent.hub;

import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import java.util.List;

/**
 * {@code HubEvents} receives what a Watch stream says, already converted to domain types and in
 * stream order, on one thread at a time. A snapshot arrives whole (all chunks collected).
 */
public interface HubEvents {

  /** The stream opened; {@code snapshotFollows} tells whether the next event is a snapshot. */
  void hello(String meshUid, long headRevision, boolean snapshotFollows);

  /**
   * The mesh's relays as the hub's hello listed them (every hello carries the whole list; empty:
   * none). Entries that do not parse were skipped and reported through {@link #malformed}.
   */
  default void relays(List<io.meshwire.netaddr.HostPort> relays) {}

  /** The whole membership at {@code revision}; {@code views} are those addressed to this cluster. */
  void snapshot(long revision, List<PeerRecord> clusters, List<View> views);

  void upserted(long revision, PeerRecord record);

  void removed(long revision, String clusterId, boolean revoked);

  /**
   * A peering policy or label change: the peers this cluster gains (or whose record it must take
   * again) and those it loses, and the views of this cluster by peers it gains, all at one
   * {@code revision}. Applied as one change.
   */
  default void peersChanged(long revision, List<PeerRecord> upserted, List<String> removed, List<View> views) {
    upserted.forEach(r -> upserted(revision, r));
    removed.forEach(id -> removed(revision, id, false));
    views.forEach(v -> viewUpdated(revision, v));
  }

  void viewUpdated(long revision, View view);

  void viewRemoved(long revision, String observerClusterId, String subjectClusterId);

  /** Everything up to {@code revision} has been delivered. */
  void caughtUp(long revision);

  /** Nothing for this cluster up to {@code revision}: a resume point. */
  void bookmark(long revision);

  /** An event could not be understood; it was skipped and the reason should be reported. */
  void malformed(long revision, String problem);
}
