package io.meshwire.hub.membership;

import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringMode;
import java.util.List;

/**
 * {@code MembershipEvent} is one change of the mesh membership, the unit of the hub's log. Each is
 * stored and sent to watchers exactly as encoded once.
 */
public sealed interface MembershipEvent {

  /** A cluster announced a new record (or a newer generation of its record). */
  record ClusterUpserted(ClusterRecord record) implements MembershipEvent {}

  /** A cluster left the mesh; every view from or about it goes with it. */
  record ClusterRemoved(String clusterId, RemovalReason reason) implements MembershipEvent {}

  /** An observer decided (or changed) how it sees a subject. Delivered to the subject only. */
  record ViewUpdated(PeerView view) implements MembershipEvent {}

  /** An observer withdrew its view of a subject. Delivered to the subject only. */
  record ViewRemoved(PeerView.Key key) implements MembershipEvent {}

  /**
   * The operator changed the peering rules (labels or policies). Stored, never sent as such: the log
   * derives a {@link PeersChanged} for each agent whose peers it changes.
   */
  record PeeringChanged(PeeringChange change) implements MembershipEvent {}

  /**
   * Derived, never stored: the peers {@code agent} gains (or whose mode changed) and loses through
   * one {@link PeeringChanged}, with the stored views of {@code agent} by the peers it gains (views
   * are served only between clusters that may peer). Delivered to {@code agent} only.
   */
  record PeersChanged(String agent, List<Peer> upserted, List<String> removed, List<PeerView> views)
      implements MembershipEvent {
    public PeersChanged {
      upserted = List.copyOf(upserted);
      removed = List.copyOf(removed);
      views = List.copyOf(views);
    }

    /** A change that brings no views back. */
    public PeersChanged(String agent, List<Peer> upserted, List<String> removed) {
      this(agent, upserted, removed, List.of());
    }
  }

  /** A peer's record as one agent receives it: with how that agent may reach it. */
  record Peer(ClusterRecord record, PeeringMode mode) {}

  /**
   * The one cluster this event may be delivered to, {@code null} when it goes to everyone the
   * peering rules allow, or {@link #NOBODY}.
   */
  default String addressee() {
    return switch (this) {
      case ViewUpdated v -> v.view().subjectClusterId();
      case ViewRemoved v -> v.key().subjectClusterId();
      case ClusterUpserted u -> null;
      case ClusterRemoved r -> null;
      case PeersChanged p -> p.agent();
      case PeeringChanged p -> NOBODY;
    };
  }

  /** The addressee of events no watcher receives (not a valid cluster ID). */
  String NOBODY = "<hub>";

  enum RemovalReason { REMOVED, REVOKED }
}
