package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
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

  /** The image of {@code clusters} and {@code views} (any order) at {@code revision}. */
  public static SnapshotImage of(long revision, Collection<ClusterRecord> clusters, Collection<PeerView> views) {
    Map<String, List<PeerView>> bySubject = new HashMap<>();
    for (PeerView v : views) {
      bySubject.computeIfAbsent(v.subjectClusterId(), k -> new ArrayList<>()).add(v);
    }
    return new SnapshotImage(revision, new ArrayList<>(clusters), bySubject);
  }

  public List<PeerView> viewsFor(String subjectClusterId) {
    return viewsBySubject.getOrDefault(subjectClusterId, List.of());
  }
}
