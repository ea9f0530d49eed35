package io.meshwire.hub.membership;

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

  /** The one cluster this event may be delivered to, or {@code null} when it goes to everyone. */
  default String addressee() {
    return switch (this) {
      case ViewUpdated v -> v.view().subjectClusterId();
      case ViewRemoved v -> v.key().subjectClusterId();
      case ClusterUpserted u -> null;
      case ClusterRemoved r -> null;
    };
  }

  enum RemovalReason { REMOVED, REVOKED }
}
