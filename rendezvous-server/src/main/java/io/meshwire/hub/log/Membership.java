package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringChange;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * {@code Membership} is the hub's source of truth as the services and the watch fan-out see it:
 * the current membership plus the recent changes, each at a mesh-wide revision. Two
 * implementations: {@link MembershipLog} (one hub, embedded file store, consecutive revisions) and
 * {@code EtcdMembership} (several replicas, revision = etcd's revision, so revisions have gaps and
 * one revision may carry several changes, each addressed to a different watcher).
 *
 * <p>Contract shared by both (tested by {@code MembershipContract}): generations only grow, a view's
 * subject must be a member, a removal takes the cluster's views with it, {@link #readAfter} returns
 * changes in revision order and never splits one revision across two calls.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
public interface Membership extends AutoCloseable {

  String meshUid();

  /** The newest revision whose changes are visible to watchers. */
  long durableRevision();

  /** The oldest since-revision that can be resumed without a snapshot. */
  long floorRevision();

  /**
   * True when a watcher that has everything up to {@code sinceRevision} can be brought forward
   * from the log, without a snapshot.
   */
  default boolean canResumeFrom(long sinceRevision) {
    return sinceRevision > 0 && sinceRevision >= floorRevision() && sinceRevision <= durableRevision();
  }

  /** Registers a listener told the new durable revision each time it advances. */
  void onDurable(LongConsumer listener);

  /**
   * Stores {@code record} (already validated on its own) as the cluster's record.
   *
   * @return completes with the revision once durable
   * @throws Rejection FAILED_PRECONDITION when the generation does not grow
   */
  CompletableFuture<Long> upsert(ClusterRecord record) throws Rejection;

  /**
   * Stores the views decided by {@code observer} and withdraws its views of {@code withdrawn}.
   * All or nothing.
   *
   * @return completes with the last revision written once durable (the current durable revision
   *     when there was nothing to change)
   */
  CompletableFuture<Long> publishViews(String observer, List<PeerView> updated, Collection<String> withdrawn)
      throws Rejection;

  /**
   * Removes a cluster, and with it every view from or about it.
   *
   * @throws Rejection NOT_FOUND when the cluster has no record
   */
  CompletableFuture<Long> remove(String clusterId, MembershipEvent.RemovalReason reason) throws Rejection;

  Optional<ClusterRecord> cluster(String clusterId);

  List<ClusterRecord> clusters();

  /**
   * The whole membership at the newest revision (which may not be durable yet: a watcher sends it
   * only once {@link #durableRevision()} has reached {@link SnapshotImage#revision()}).
   */
  SnapshotImage image();

  /**
   * Durable entries after {@code afterRevision}, about {@code max} of them (more when the last
   * revision carries several: a revision is never split); empty when there are none.
   *
   * @return empty Optional when {@code afterRevision} is below the floor: the caller needs a
   *     snapshot
   */
  Optional<List<LogEntry>> readAfter(long afterRevision, int max);

  /** The peering rules and default at the newest revision. */
  default Peering peering() {
    return Peering.fullMesh();
  }

  /**
   * Applies an operator change of the peering rules (labels, policies). Each agent whose peers
   * change receives only what it gains and loses, at the change's revision; the others nothing.
   *
   * @param force apply even a change that leaves no two members connected
   * @throws Rejection FAILED_PRECONDITION when this store keeps no peering rules, or the change
   *     would isolate every cluster without {@code force}; NOT_FOUND for an unknown policy
   */
  default CompletableFuture<PeeringResult> changePeering(PeeringChange change, boolean force) throws Rejection {
    throw new Rejection(Rejection.Kind.FAILED_PRECONDITION,
        "peering policies and cluster labels are kept by the file store only; this hub's store does not support them");
  }

  /**
   * What a peering change did: its revision (the current one when {@code unchanged}), and how many
   * agents were sent a change of their peers.
   */
  record PeeringResult(long revision, int affectedAgents, boolean unchanged) {}

  @Override
  void close();
}
