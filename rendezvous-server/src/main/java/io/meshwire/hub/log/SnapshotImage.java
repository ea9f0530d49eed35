package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import java.util.List;
import java.util.Map;

/**
 * {@code SnapshotImage} is the whole membership at one revision: every record, and every view
 * grouped by the subject it is addressed to. Immutable.
 */
public record SnapshotImage(long revision, List<ClusterRecord> clusters, Map<String, List<PeerView>> viewsBySubject) {

  public SnapshotImage {
    clusters = List.copyOf(clusters);
    viewsBySubject = Map.copyOf(viewsBySubject);
  }

  public List<PeerView> viewsFor(String subjectClusterId) {
    return viewsBySubject.getOrDefault(subjectClusterId, List.of());
  }
}
