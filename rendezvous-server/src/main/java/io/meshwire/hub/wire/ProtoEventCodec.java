package io.meshwire.hub.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import io.meshwire.hub.log.EventCodec;
import io.meshwire.hub.log.SnapshotImage;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.PeeringChanged;
import io.meshwire.hub.membership.MembershipEvent.PeersChanged;
import io.meshwire.hub.membership.MembershipEvent.ViewRemoved;
import io.meshwire.hub.membership.MembershipEvent.ViewUpdated;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringDefault;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.proto.rendezvous.v1.RemovalReason;
import io.meshwire.proto.rendezvous.v1.SnapshotChunk;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.validation.WireValidator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ProtoEventCodec} encodes log events as {@code WatchEvent} messages, so the bytes the store
 * keeps are the bytes watchers receive, and whole states as one {@code SnapshotChunk} holding
 * every record and every view. Stateless and thread-safe.
 */
public final class ProtoEventCodec implements EventCodec {

  private final WireValidator validator;

  /** A codec that checks what it decodes with {@code validator}, the one the write path uses. */
  public ProtoEventCodec(WireValidator validator) {
    this.validator = validator;
  }

  /** A codec with the default address policy. */
  public ProtoEventCodec() {
    this(WireValidator.defaults());
  }

  @Override
  public byte[] encodeEvent(long revision, MembershipEvent event) {
    WatchEvent.Builder b = WatchEvent.newBuilder().setRevision(revision);
    switch (event) {
      case ClusterUpserted u -> b.getClusterUpsertedBuilder().setRecord(ProtoMapper.toProto(u.record()));
      case ClusterRemoved r -> b.getClusterRemovedBuilder().setClusterId(r.clusterId()).setReason(switch (r.reason()) {
        case REMOVED -> RemovalReason.REMOVAL_REASON_REMOVED;
        case REVOKED -> RemovalReason.REMOVAL_REASON_REVOKED;
      });
      case ViewUpdated v -> b.getViewUpdatedBuilder().setView(ProtoMapper.toProto(v.view()));
      case ViewRemoved v -> b.getViewRemovedBuilder()
          .setObserverClusterId(v.key().observerClusterId())
          .setSubjectClusterId(v.key().subjectClusterId());
      case PeeringChanged c -> b.setPeeringChanged(PolicyMapper.toProto(c.change()));
      case PeersChanged p -> {
        var changed = b.getPeersChangedBuilder();
        p.upserted().forEach(peer -> changed.addUpserted(PolicyMapper.peerRecord(peer.record(), peer.mode())));
        changed.addAllRemoved(p.removed());
        p.views().forEach(v -> changed.addViews(ProtoMapper.toProto(v)));
      }
    }
    return b.build().toByteArray();
  }

  @Override
  public byte[] encodeUpsert(long revision, ClusterRecord record, PeeringMode mode) {
    WatchEvent.Builder b = WatchEvent.newBuilder().setRevision(revision);
    b.getClusterUpsertedBuilder().setRecord(PolicyMapper.peerRecord(record, mode));
    return b.build().toByteArray();
  }

  @Override
  public MembershipEvent decodeEvent(byte[] encoded) {
    WatchEvent e = parse(encoded);
    return switch (e.getEventCase()) {
      case CLUSTER_UPSERTED -> new ClusterUpserted(ProtoMapper.fromStored(validator, e.getClusterUpserted().getRecord()));
      case CLUSTER_REMOVED -> new ClusterRemoved(e.getClusterRemoved().getClusterId(),
          e.getClusterRemoved().getReason() == RemovalReason.REMOVAL_REASON_REVOKED
              ? MembershipEvent.RemovalReason.REVOKED : MembershipEvent.RemovalReason.REMOVED);
      case VIEW_UPDATED -> new ViewUpdated(ProtoMapper.fromStored(validator, e.getViewUpdated().getView()));
      case VIEW_REMOVED -> new ViewRemoved(new PeerView.Key(e.getViewRemoved().getObserverClusterId(),
          e.getViewRemoved().getSubjectClusterId()));
      case PEERING_CHANGED -> new PeeringChanged(PolicyMapper.fromStored(e.getPeeringChanged()));
      default -> throw new IllegalStateException("stored event at revision " + e.getRevision()
          + " has unexpected kind " + e.getEventCase());
    };
  }

  @Override
  public byte[] encodeState(SnapshotImage image) {
    SnapshotChunk.Builder b = SnapshotChunk.newBuilder().setLast(true);
    image.clusters().forEach(c -> b.addClusters(ProtoMapper.toProto(c)));
    image.viewsBySubject().values().forEach(vs -> vs.forEach(v -> b.addViews(ProtoMapper.toProto(v))));
    b.setPeering(PolicyMapper.toProto(image.peering().rules()));
    return b.build().toByteArray();
  }

  @Override
  public SnapshotImage decodeState(long revision, byte[] encoded) {
    SnapshotChunk chunk;
    try {
      chunk = SnapshotChunk.parseFrom(encoded);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored snapshot at revision " + revision + " does not parse", e);
    }
    List<ClusterRecord> clusters = new ArrayList<>();
    chunk.getClustersList().forEach(c -> clusters.add(ProtoMapper.fromStored(validator, c)));
    Map<String, List<PeerView>> views = new HashMap<>();
    chunk.getViewsList().forEach(v -> views.computeIfAbsent(v.getSubjectClusterId(), k -> new ArrayList<>())
        .add(ProtoMapper.fromStored(validator, v)));
    // The default peering is the hub's setting, not stored: the log applies its own.
    return new SnapshotImage(revision, clusters, views,
        new Peering(PolicyMapper.fromStored(chunk.getPeering()), PeeringDefault.ALLOW));
  }

  private static WatchEvent parse(byte[] encoded) {
    try {
      return WatchEvent.parseFrom(encoded);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored event does not parse", e);
    }
  }
}
