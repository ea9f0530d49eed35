package io.meshwire.hub.watch;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.PeerView;
import java.time.Duration;
import java.util.List;

/**
 * {@code WatchCodec} encodes the stream's control messages and snapshot chunks. Stateless and
 * thread-safe.
 */
public interface WatchCodec {

  byte[] hello(String meshUid, long headRevision, long floorRevision, boolean snapshotFollows,
      Duration bookmarkInterval);

  /** A chunk of records shared by every watcher of the snapshot (never the last chunk). */
  byte[] clusterChunk(long revision, int index, List<ClusterRecord> clusters);

  /** A chunk of records as one watcher sees them, each with its peering mode (never the last chunk). */
  byte[] peerChunk(long revision, int index, List<MembershipEvent.Peer> peers);

  /** The last chunk: the watcher's own views. */
  byte[] lastChunk(long revision, int index, List<PeerView> views);

  byte[] caughtUp(long revision);

  byte[] bookmark(long revision);
}
