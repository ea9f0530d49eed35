package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.PeeringChanged;
import io.meshwire.hub.membership.MembershipEvent.PeersChanged;
import io.meshwire.hub.membership.MembershipEvent.ViewRemoved;
import io.meshwire.hub.membership.MembershipEvent.ViewUpdated;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.PeerDelta;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.hub.policy.PeeringRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code PeeringAudience} turns one change of the membership into the entries watchers receive
 * for it, under the peering rules of its revision: a record goes only to the clusters allowed to
 * peer with it (re-encoded for those that may reach it only through the relay), and a change of
 * the rules becomes one {@link PeersChanged} per agent whose peers it changes (nothing for the
 * others). Both stores address their entries here, so an agent receives the same deltas whichever
 * store its hub uses.
 *
 * <p>Stateless; callers pass the state as of just before the change and hold whatever lock guards it.
 */
public final class PeeringAudience {

  private PeeringAudience() {}

  /**
   * The entries of {@code event} at {@code revision}, addressed under {@code rules} (a
   * {@link PeeringChanged} is addressed by {@link #peersChanged} instead).
   *
   * @param clusters the members before the event, by id
   */
  public static LogEntry[] address(long revision, MembershipEvent event, byte[] encoded, long now, Peering rules,
      Map<String, ClusterRecord> clusters, EventCodec codec) {
    return switch (event) {
      case ClusterUpserted u when !rules.isFullMesh() -> {
        String subject = u.record().clusterId();
        LogEntry direct = new LogEntry(revision, event, encoded, now,
            w -> w.equals(subject) || rules.decide(subject, w) == PeeringMode.DIRECT);
        if (!rules.hasRelayOnly()) {
          yield new LogEntry[] {direct};
        }
        yield new LogEntry[] {direct, new LogEntry(revision, event,
            codec.encodeUpsert(revision, u.record(), PeeringMode.RELAY_ONLY), now,
            w -> rules.decide(subject, w) == PeeringMode.RELAY_ONLY)};
      }
      case ClusterRemoved r when !rules.isFullMesh() -> new LogEntry[] {new LogEntry(revision, event, encoded, now,
          w -> w.equals(r.clusterId()) || rules.decide(r.clusterId(), w) != PeeringMode.DENY)};
      case ViewUpdated v when !rules.isFullMesh() -> new LogEntry[] {viewEntry(revision, event, encoded, now, rules,
          v.view().key())};
      case ViewRemoved v when !rules.isFullMesh() -> new LogEntry[] {viewEntry(revision, event, encoded, now, rules,
          v.key())};
      case PeeringChanged c -> throw new IllegalArgumentException("a peering change is addressed by peersChanged");
      default -> new LogEntry[] {new LogEntry(revision, event, encoded, now)};
    };
  }

  /**
   * The rules after an operator's {@code change} of {@code before}, once checked against the
   * current {@code members} (both stores check the same way before they write anything).
   *
   * @throws Rejection NOT_FOUND when deleting a policy that does not exist; FAILED_PRECONDITION
   *     when a new policy exceeds {@link PeeringRules#MAX_POLICIES}, or the change would leave no
   *     two members connected and {@code force} is false
   */
  public static Peering checkedChange(Peering before, PeeringChange change, List<String> members, boolean force)
      throws Rejection {
    if (change instanceof PeeringChange.DeletePolicy d && !before.rules().policies().containsKey(d.name())) {
      throw policyNotFound(d.name());
    }
    if (change instanceof PeeringChange.ApplyPolicy a && before.rules().policies().size() >= PeeringRules.MAX_POLICIES
        && !before.rules().policies().containsKey(a.policy().name())) {
      throw new Rejection(Rejection.Kind.FAILED_PRECONDITION, "policy: the mesh already has "
          + PeeringRules.MAX_POLICIES + " policies");
    }
    Peering after = before.with(change);
    if (!force && members.size() >= 2 && !after.rules().equals(before.rules()) && before.connectsAny(members)
        && !after.connectsAny(members)) {
      throw new Rejection(Rejection.Kind.FAILED_PRECONDITION, "this change would isolate every cluster: no two of the "
          + members.size() + " clusters could connect; repeat with --force (force: true) to apply it anyway");
    }
    return after;
  }

  /** NOT_FOUND naming the policy {@code name}. */
  public static Rejection policyNotFound(String name) {
    return new Rejection(Rejection.Kind.NOT_FOUND, "name: policy \"" + name + "\" does not exist");
  }

  /**
   * One {@link PeersChanged} per agent of {@code deltas} ({@link PeerDelta#of} between the rules
   * before and after a change), with the records it gains, the ids it loses, and the stored views of
   * it by the peers it gains (views are served only between clusters that may peer, so a pair given
   * back gets them again).
   */
  public static LogEntry[] peersChanged(long revision, Map<String, PeerDelta> deltas,
      Map<String, ClusterRecord> clusters, Map<PeerView.Key, PeerView> views, EventCodec codec, long now) {
    List<LogEntry> out = new ArrayList<>();
    deltas.forEach((agent, delta) -> {
      List<MembershipEvent.Peer> upserted = new ArrayList<>();
      List<PeerView> returning = new ArrayList<>();
      delta.gained().forEach((id, mode) -> {
        upserted.add(new MembershipEvent.Peer(clusters.get(id), mode));
        Optional.ofNullable(views.get(new PeerView.Key(id, agent))).ifPresent(returning::add);
      });
      PeersChanged changed = new PeersChanged(agent, upserted, List.copyOf(delta.lost()), returning);
      out.add(new LogEntry(revision, changed, codec.encodeEvent(revision, changed), now));
    });
    return out.toArray(LogEntry[]::new);
  }

  /**
   * A view's entry: for its subject while {@code rules} let observer and subject peer, else for
   * nobody (a pair that may peer again gets the stored view in its peers_changed).
   */
  private static LogEntry viewEntry(long revision, MembershipEvent event, byte[] encoded, long now, Peering rules,
      PeerView.Key key) {
    boolean served = rules.decide(key.observerClusterId(), key.subjectClusterId()) != PeeringMode.DENY;
    return new LogEntry(revision, event, encoded, now,
        LogEntry.addressedTo(served ? key.subjectClusterId() : MembershipEvent.NOBODY));
  }
}
