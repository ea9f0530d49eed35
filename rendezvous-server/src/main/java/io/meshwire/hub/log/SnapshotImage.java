package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code SnapshotImage} is the whole membership at one revision: every record, every view grouped
 * by the subject it is addressed to, and the peering rules (who may see whom). Immutable.
 */
public record SnapshotImage(long revision, List<ClusterRecord> clusters, Map<String, List<PeerView>> viewsBySubject,
    Peering peering) {

  public SnapshotImage {
    clusters = List.copyOf(clusters);
    viewsBySubject = Map.copyOf(viewsBySubject);
  }

  /** An image of a mesh without peering policies (the full mesh). */
  public SnapshotImage(long revision, List<ClusterRecord> clusters, Map<String, List<PeerView>> viewsBySubject) {
    this(revision, clusters, viewsBySubject, Peering.fullMesh());
  }

  /** The image of {@code clusters} and {@code views} (any order) at {@code revision}. */
  public static SnapshotImage of(long revision, Collection<ClusterRecord> clusters, Collection<PeerView> views) {
    Map<String, List<PeerView>> bySubject = new HashMap<>();
    for (PeerView v : views) {
      bySubject.computeIfAbsent(v.subjectClusterId(), k -> new ArrayList<>()).add(v);
    }
    return new SnapshotImage(revision, new ArrayList<>(clusters), bySubject);
  }

  /** This image with {@code rules} deciding who sees whom. */
  public SnapshotImage withPeering(Peering rules) {
    return new SnapshotImage(revision, clusters, viewsBySubject, rules);
  }

  /**
   * The views served to {@code subjectClusterId}: those of observers it may peer with (a view between
   * a pair the rules split stays stored, unserved, until its observer withdraws it or the pair may
   * peer again).
   */
  public List<PeerView> viewsFor(String subjectClusterId) {
    List<PeerView> all = viewsBySubject.getOrDefault(subjectClusterId, List.of());
    if (peering.isFullMesh()) {
      return all;
    }
    return all.stream()
        .filter(v -> peering.decide(v.observerClusterId(), subjectClusterId) != PeeringMode.DENY)
        .toList();
  }
}
