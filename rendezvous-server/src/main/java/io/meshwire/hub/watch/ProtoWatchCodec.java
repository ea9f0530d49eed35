package io.meshwire.hub.watch;

import com.google.protobuf.Duration;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.wire.PolicyMapper;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.proto.rendezvous.v1.Bookmark;
import io.meshwire.proto.rendezvous.v1.CaughtUp;
import io.meshwire.proto.rendezvous.v1.Hello;
import io.meshwire.proto.rendezvous.v1.SnapshotChunk;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import java.util.List;

/** {@code ProtoWatchCodec} encodes Watch control messages as v1 {@code WatchEvent}s. Stateless. */
public final class ProtoWatchCodec implements WatchCodec {

  private final List<String> relays;

  /** A codec whose hellos list no relays. */
  public ProtoWatchCodec() {
    this(List.of());
  }

  /** A codec whose hellos list {@code relays} ("host:port" each). */
  public ProtoWatchCodec(List<String> relays) {
    this.relays = List.copyOf(relays);
  }

  @Override
  public byte[] hello(String meshUid, long headRevision, long floorRevision, boolean snapshotFollows,
      java.time.Duration bookmarkInterval) {
    return WatchEvent.newBuilder().setHello(Hello.newBuilder()
            .setMeshUid(meshUid)
            .setHeadRevision(headRevision)
            .setFloorRevision(floorRevision)
            .setSnapshotFollows(snapshotFollows)
            .addAllRelays(relays)
            .setBookmarkInterval(Duration.newBuilder().setSeconds(bookmarkInterval.toSeconds())))
        .build().toByteArray();
  }

  @Override
  public byte[] clusterChunk(long revision, int index, List<ClusterRecord> clusters) {
    SnapshotChunk.Builder chunk = SnapshotChunk.newBuilder().setIndex(index);
    clusters.forEach(c -> chunk.addClusters(ProtoMapper.toProto(c)));
    return WatchEvent.newBuilder().setRevision(revision).setSnapshot(chunk).build().toByteArray();
  }

  @Override
  public byte[] peerChunk(long revision, int index, List<MembershipEvent.Peer> peers) {
    SnapshotChunk.Builder chunk = SnapshotChunk.newBuilder().setIndex(index);
    peers.forEach(p -> chunk.addClusters(PolicyMapper.peerRecord(p.record(), p.mode())));
    return WatchEvent.newBuilder().setRevision(revision).setSnapshot(chunk).build().toByteArray();
  }

  @Override
  public byte[] lastChunk(long revision, int index, List<PeerView> views) {
    SnapshotChunk.Builder chunk = SnapshotChunk.newBuilder().setIndex(index).setLast(true);
    views.forEach(v -> chunk.addViews(ProtoMapper.toProto(v)));
    return WatchEvent.newBuilder().setRevision(revision).setSnapshot(chunk).build().toByteArray();
  }

  @Override
  public byte[] caughtUp(long revision) {
    return WatchEvent.newBuilder().setRevision(revision).setCaughtUp(CaughtUp.getDefaultInstance())
        .build().toByteArray();
  }

  @Override
  public byte[] bookmark(long revision) {
    return WatchEvent.newBuilder().setRevision(revision).setBookmark(Bookmark.getDefaultInstance())
        .build().toByteArray();
  }
}
