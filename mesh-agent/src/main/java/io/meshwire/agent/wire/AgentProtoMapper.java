package io.meshwire.agent.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Quote;
import io.meshwire.proto.policy.v1.PeeringMode;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import io.meshwire.validation.InvalidField;
import io.meshwire.validation.WireValidator;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code AgentProtoMapper} is where the agent's domain meets the v1 wire and state-file types.
 * Input from the hub is checked again here (a hub bug must not become a broken data plane):
 * {@code from*} methods throw {@link IllegalArgumentException} naming the field. Stateless.
 */
public final class AgentProtoMapper {

  /** The hub's validator with the default address policy. */
  private static final WireValidator VALIDATOR = WireValidator.defaults();

  private AgentProtoMapper() {}

  /**
   * Checks a record with the validator the hub uses on its write path (same bounds, same address
   * policy: a catch-all or special range never reaches a routing table, whoever sent it).
   */
  public static PeerRecord fromProto(ClusterRecord p) {
    WireValidator.CheckedRecord c = checked(() -> VALIDATOR.clusterRecord("", p),
        "record " + printable(p.getClusterId()));
    return new PeerRecord(c.clusterId(), Base64.getEncoder().encodeToString(c.wireguardPublicKey()),
        c.wireguardListenPort(), c.gatewayEndpoints(), c.podCidrs(), c.serviceCidrs(), c.peerChannelAddress(),
        c.labels(), c.generation(), p.getRevision(), c.probePort(),
        p.getPeeringMode() == PeeringMode.PEERING_MODE_RELAY_ONLY);
  }

  public static ClusterRecord toProto(PeerRecord r) {
    ClusterRecord.Builder b = ClusterRecord.newBuilder()
        .setClusterId(r.clusterId())
        .setWireguardPublicKey(ByteString.copyFrom(Base64.getDecoder().decode(r.wireguardPublicKey())))
        .setWireguardListenPort(r.wireguardListenPort())
        .putAllLabels(r.labels())
        .setGeneration(r.generation())
        .setRevision(r.revision())
        .setProbePort(r.probePort());
    if (r.relayOnly()) {
      b.setPeeringMode(PeeringMode.PEERING_MODE_RELAY_ONLY); // persisted: a restart without the hub keeps it
    }
    r.gatewayEndpoints().forEach(e -> b.addGatewayEndpoints(e.toString()));
    r.podCidrs().forEach(c -> b.addPodCidrs(c.toString()));
    r.serviceCidrs().forEach(c -> b.addServiceCidrs(c.toString()));
    r.peerChannelAddress().ifPresent(a -> b.setPeerChannelAddress(a.toString()));
    return b.build();
  }

  /** Checks a view with the validator the hub uses on its write path. */
  public static View fromProto(PeerView p) {
    WireValidator.CheckedView c = checked(() -> VALIDATOR.peerView("", p),
        "view " + printable(p.getObserverClusterId()) + "->" + printable(p.getSubjectClusterId()));
    return new View(c.observerClusterId(), c.subjectClusterId(),
        c.mappings().stream().map(m -> new View.Mapping(m.original(), m.seenAs())).toList(), c.generation());
  }

  /** A cluster ID as is when valid (or empty), else quoted and bounded. */
  private static String printable(String id) {
    return id.isEmpty() || WireValidator.isClusterId(id) ? id : Quote.of(id);
  }

  private interface Check<T> {
    T run() throws InvalidField;
  }

  private static <T> T checked(Check<T> check, String where) {
    try {
      return check.run();
    } catch (InvalidField e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage());
    }
  }

  public static PeerView toProto(View v) {
    PeerView.Builder b = PeerView.newBuilder()
        .setObserverClusterId(v.observerClusterId())
        .setSubjectClusterId(v.subjectClusterId())
        .setGeneration(v.generation());
    v.mappings().forEach(m -> b.addMappings(CidrMapping.newBuilder()
        .setOriginal(m.original().toString()).setSeenAs(m.seenAs().toString())));
    return b.build();
  }

  public static io.meshwire.proto.agent.v1.AgentState toProto(AgentState s) {
    var b = io.meshwire.proto.agent.v1.AgentState.newBuilder()
        .setMeshUid(s.meshUid())
        .setRevision(s.revision())
        .setOwnGeneration(s.ownGeneration())
        .setWireguardPrivateKey(s.wireguardPrivateKey())
        .setWrittenAt(timestamp(s.writtenAt()));
    s.peers().values().forEach(p -> b.addPeers(toProto(p)));
    s.viewsOfMe().values().forEach(v -> b.addViewsOfMe(toProto(v)));
    s.myViews().values().forEach(v -> b.addMyViews(toProto(v)));
    return b.build();
  }

  public static AgentState fromProto(io.meshwire.proto.agent.v1.AgentState p) {
    Map<String, PeerRecord> peers = new HashMap<>();
    p.getPeersList().forEach(r -> peers.put(r.getClusterId(), fromProto(r)));
    Map<String, View> viewsOfMe = new HashMap<>();
    p.getViewsOfMeList().forEach(v -> viewsOfMe.put(v.getObserverClusterId(), fromProto(v)));
    Map<String, View> myViews = new HashMap<>();
    p.getMyViewsList().forEach(v -> myViews.put(v.getSubjectClusterId(), fromProto(v)));
    return new AgentState(p.getMeshUid(), p.getRevision(), p.getOwnGeneration(), p.getWireguardPrivateKey(), peers,
        viewsOfMe, myViews, instant(p.getWrittenAt()));
  }

  public static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  public static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

}
