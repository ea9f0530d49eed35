package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.PeeringChanged;
import io.meshwire.hub.membership.MembershipEvent.PeersChanged;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.policy.PeerDelta;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.hub.policy.PeeringRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
   * The entries of {@code event} at {@code revision}, addressed under {@code rules} (the rules
   * before the event: for a {@link PeeringChanged}, the deltas lead from them to the changed ones).
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
      case PeeringChanged c -> peersChanged(revision, rules, rules.with(c.change()), clusters, codec, now,
          c.change() instanceof PeeringChange.SetLabels s ? s.clusterId() : null);
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
   * One {@link PeersChanged} per member whose peers differ between {@code before} and
   * {@code after}, with the records it gains and the ids it loses.
   *
   * @param relabeled the cluster whose labels are all that changed, or null: only pairs with it
   *     are compared then
   */
  public static LogEntry[] peersChanged(long revision, Peering before, Peering after,
      Map<String, ClusterRecord> clusters, EventCodec codec, long now, String relabeled) {
    List<String> members = List.copyOf(clusters.keySet());
    boolean onlyLabels = relabeled != null && before.fallback() == after.fallback()
        && after.rules().policies().equals(before.rules().policies());
    Map<String, PeerDelta> deltas = onlyLabels ? PeerDelta.ofRelabel(before, after, members, relabeled)
        : PeerDelta.between(before, members, after, members);
    List<LogEntry> out = new ArrayList<>();
    deltas.forEach((agent, delta) -> {
      List<MembershipEvent.Peer> upserted = new ArrayList<>();
      delta.gained().forEach((id, mode) -> upserted.add(new MembershipEvent.Peer(clusters.get(id), mode)));
      PeersChanged changed = new PeersChanged(agent, upserted, List.copyOf(delta.lost()));
      out.add(new LogEntry(revision, changed, codec.encodeEvent(revision, changed), now));
    });
    return out.toArray(LogEntry[]::new);
  }
}
