package io.meshwire.agent.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code AgentProtoMapper} is where the agent's domain meets the v1 wire and state-file types.
 * Input from the hub is checked again here (a hub bug must not become a broken data plane):
 * {@code from*} methods throw {@link IllegalArgumentException} naming the field. Stateless.
 */
public final class AgentProtoMapper {

  private static final java.util.regex.Pattern CLUSTER_ID =
      java.util.regex.Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private AgentProtoMapper() {}

  public static PeerRecord fromProto(ClusterRecord p) {
    String id = p.getClusterId();
    String where = "record " + id;
    clusterId(where, "cluster_id", id);
    if (p.getWireguardPublicKey().size() != 32) {
      throw new IllegalArgumentException(where + ": wireguard_public_key must be 32 bytes, got "
          + p.getWireguardPublicKey().size());
    }
    // uint32 on the wire: a value above 2^31 arrives negative here.
    if (p.getWireguardListenPort() < 1 || p.getWireguardListenPort() > 65535) {
      throw new IllegalArgumentException(where + ": wireguard_listen_port "
          + Integer.toUnsignedString(p.getWireguardListenPort()) + " out of range 1..65535");
    }
    List<HostPort> endpoints = new ArrayList<>();
    for (int i = 0; i < p.getGatewayEndpointsCount(); i++) {
      String endpoint = p.getGatewayEndpoints(i);
      endpoints.add(field(where, "gateway_endpoints[" + i + "]", () -> HostPort.parse(endpoint)));
    }
    List<Cidr> pods = cidrs(where, "pod_cidrs", p.getPodCidrsList());
    List<Cidr> services = cidrs(where, "service_cidrs", p.getServiceCidrsList());
    Optional<HostPort> peerChannel = p.getPeerChannelAddress().isEmpty() ? Optional.empty()
        : Optional.of(field(where, "peer_channel_address", () -> HostPort.parse(p.getPeerChannelAddress())));
    return new PeerRecord(id, Base64.getEncoder().encodeToString(p.getWireguardPublicKey().toByteArray()),
        p.getWireguardListenPort(), endpoints, pods, services, peerChannel, p.getLabelsMap(), p.getGeneration(),
        p.getRevision());
  }

  public static ClusterRecord toProto(PeerRecord r) {
    ClusterRecord.Builder b = ClusterRecord.newBuilder()
        .setClusterId(r.clusterId())
        .setWireguardPublicKey(ByteString.copyFrom(Base64.getDecoder().decode(r.wireguardPublicKey())))
        .setWireguardListenPort(r.wireguardListenPort())
        .putAllLabels(r.labels())
        .setGeneration(r.generation())
        .setRevision(r.revision());
    r.gatewayEndpoints().forEach(e -> b.addGatewayEndpoints(e.toString()));
    r.podCidrs().forEach(c -> b.addPodCidrs(c.toString()));
    r.serviceCidrs().forEach(c -> b.addServiceCidrs(c.toString()));
    r.peerChannelAddress().ifPresent(a -> b.setPeerChannelAddress(a.toString()));
    return b.build();
  }

  public static View fromProto(PeerView p) {
    String view = "view " + p.getObserverClusterId() + "->" + p.getSubjectClusterId();
    clusterId(view, "observer_cluster_id", p.getObserverClusterId());
    clusterId(view, "subject_cluster_id", p.getSubjectClusterId());
    List<View.Mapping> mappings = new ArrayList<>();
    for (int i = 0; i < p.getMappingsCount(); i++) {
      CidrMapping m = p.getMappings(i);
      String mapping = "mappings[" + i + "]";
      Cidr original = field(view, mapping + ".original", () -> Cidr.parse(m.getOriginal()));
      Cidr seenAs = field(view, mapping + ".seen_as", () -> Cidr.parse(m.getSeenAs()));
      // A seen_as of another size is well-formed data but an unusable view: the agent refuses it
      // per view (ViewChecks, in MeshSync) instead of dropping the event, or a whole snapshot, here.
      mappings.add(new View.Mapping(original, seenAs));
    }
    return new View(p.getObserverClusterId(), p.getSubjectClusterId(), mappings, p.getGeneration());
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

  private static List<Cidr> cidrs(String where, String field, List<String> values) {
    List<Cidr> out = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      out.add(field(where, field + "[" + i + "]", () -> Cidr.parse(v)));
    }
    return out;
  }

  private static void clusterId(String where, String field, String id) {
    if (!CLUSTER_ID.matcher(id).matches()) {
      throw new IllegalArgumentException(where + ": " + field + ": \"" + id + "\" is not a DNS label");
    }
  }

  /** Parses one field; {@code where} names the object ("record east"), {@code field} the field in it. */
  private static <T> T field(String where, String field, java.util.function.Supplier<T> parse) {
    try {
      return parse.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + field + ": " + e.getMessage(), e);
    }
  }
}
