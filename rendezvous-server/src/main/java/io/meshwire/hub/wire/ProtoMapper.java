package io.meshwire.hub.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.membership.WireGuardKey;
import io.meshwire.hub.membership.UnreadableRecord;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.validation.InvalidField;
import io.meshwire.validation.WireValidator;
import java.time.Instant;

/**
 * {@code ProtoMapper} is the one place where the hub's domain records meet the v1 wire types. The
 * {@code from*} methods check each message with the shared {@link WireValidator} (the same one the
 * agent applies to what it receives) and throw a {@link Rejection} naming the field; the {@code
 * fromStored} methods apply the very same validator to what the hub reads back from its store;
 * the {@code to*} methods cannot fail. Stateless.
 */
public final class ProtoMapper {

  public static final int MAX_VIEWS = 256;

  private ProtoMapper() {}

  /** True when {@code id} is a valid cluster ID (a DNS label). */
  public static boolean isClusterId(String id) {
    return WireValidator.isClusterId(id);
  }

  /** Checks a cluster ID given in field {@code field}. */
  public static String clusterId(String field, String id) throws Rejection {
    try {
      return WireValidator.clusterId(field, id);
    } catch (InvalidField e) {
      throw Rejection.of(e);
    }
  }

  /**
   * Validates and converts an announced record. {@code callerId} is the cluster ID of the caller's
   * certificate; {@code revision} and {@code acceptedAt} are left for the log to set.
   */
  public static ClusterRecord fromProto(WireValidator validator, io.meshwire.proto.rendezvous.v1.ClusterRecord p,
      String callerId) throws Rejection {
    String id = clusterId("record.cluster_id", p.getClusterId());
    if (!id.equals(callerId)) {
      throw new Rejection(Rejection.Kind.PERMISSION_DENIED, "record.cluster_id: \"" + id
          + "\" differs from the caller's certificate (cluster \"" + callerId + "\")");
    }
    try {
      return record(validator.clusterRecord("record", p));
    } catch (InvalidField e) {
      throw Rejection.of(e);
    }
  }

  private static ClusterRecord record(WireValidator.CheckedRecord c) {
    return new ClusterRecord(c.clusterId(), new WireGuardKey(c.wireguardPublicKey()), c.wireguardListenPort(),
        c.gatewayEndpoints(), c.podCidrs(), c.serviceCidrs(), c.peerChannelAddress(), c.labels(), c.agentVersion(),
        c.generation(), Instant.EPOCH, 0, c.probePort());
  }

  /**
   * Validates and converts a view published by {@code observer} (the caller: whatever the request
   * says in observer_cluster_id is replaced). Whether the subject is a member is the log's check.
   */
  public static PeerView fromProto(WireValidator validator, String field, io.meshwire.proto.rendezvous.v1.PeerView p,
      String observer) throws Rejection {
    try {
      return view(validator.peerView(field, p.toBuilder().setObserverClusterId(observer).build()));
    } catch (InvalidField e) {
      throw Rejection.of(e);
    }
  }

  private static PeerView view(WireValidator.CheckedView c) {
    return new PeerView(c.observerClusterId(), c.subjectClusterId(),
        c.mappings().stream().map(m -> new PeerView.Mapping(m.original(), m.seenAs())).toList(), c.generation());
  }

  public static io.meshwire.proto.rendezvous.v1.ClusterRecord toProto(ClusterRecord r) {
    var b = io.meshwire.proto.rendezvous.v1.ClusterRecord.newBuilder()
        .setClusterId(r.clusterId())
        .setWireguardPublicKey(ByteString.copyFrom(r.wireguardPublicKey().bytes()))
        .setWireguardListenPort(r.wireguardListenPort())
        .putAllLabels(r.labels())
        .setAgentVersion(r.agentVersion())
        .setGeneration(r.generation())
        .setAcceptedAt(timestamp(r.acceptedAt()))
        .setRevision(r.revision())
        .setProbePort(r.probePort());
    r.gatewayEndpoints().forEach(e -> b.addGatewayEndpoints(e.toString()));
    r.podCidrs().forEach(c -> b.addPodCidrs(c.toString()));
    r.serviceCidrs().forEach(c -> b.addServiceCidrs(c.toString()));
    r.peerChannelAddress().ifPresent(a -> b.setPeerChannelAddress(a.toString()));
    return b.build();
  }

  /**
   * Converts a record the hub itself wrote (store, snapshot), checked by the same validator as on
   * the write path.
   *
   * @throws UnreadableRecord naming the cluster and the rule it breaks
   */
  public static ClusterRecord fromStored(WireValidator validator, io.meshwire.proto.rendezvous.v1.ClusterRecord p) {
    try {
      return record(validator.clusterRecord("record", p)).accepted(instant(p.getAcceptedAt()), p.getRevision());
    } catch (InvalidField e) {
      throw new UnreadableRecord(WireValidator.isClusterId(p.getClusterId()) ? p.getClusterId() : null, e.getMessage());
    }
  }

  public static io.meshwire.proto.rendezvous.v1.PeerView toProto(PeerView v) {
    var b = io.meshwire.proto.rendezvous.v1.PeerView.newBuilder()
        .setObserverClusterId(v.observerClusterId())
        .setSubjectClusterId(v.subjectClusterId())
        .setGeneration(v.generation());
    v.mappings().forEach(m -> b.addMappings(CidrMapping.newBuilder()
        .setOriginal(m.original().toString()).setSeenAs(m.seenAs().toString())));
    return b.build();
  }

  /**
   * Converts a view the hub itself wrote, checked by the same validator as on the write path.
   *
   * @throws UnreadableRecord naming the view's observer (the cluster whose removal drops it)
   */
  public static PeerView fromStored(WireValidator validator, io.meshwire.proto.rendezvous.v1.PeerView p) {
    try {
      return view(validator.peerView("view", p));
    } catch (InvalidField e) {
      throw new UnreadableRecord(WireValidator.isClusterId(p.getObserverClusterId()) ? p.getObserverClusterId()
          : null, e.getMessage());
    }
  }

  public static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  public static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
