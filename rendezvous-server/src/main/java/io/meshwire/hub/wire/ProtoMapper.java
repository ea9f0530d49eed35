package io.meshwire.hub.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.membership.WireGuardKey;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code ProtoMapper} is the one place where the hub's domain records meet the v1 wire types. The
 * {@code from*} methods validate as they convert (every bound written in rendezvous.proto) and
 * throw a {@link Rejection} naming the field; the {@code to*} methods cannot fail. Stateless.
 */
public final class ProtoMapper {

  public static final int MAX_ENDPOINTS = 8;
  public static final int MAX_CIDRS = 16;
  public static final int MAX_LABELS = 32;
  public static final int MAX_LABEL_KEY = 63;
  public static final int MAX_LABEL_VALUE = 253;
  public static final int MAX_VERSION = 64;
  public static final int MAX_VIEWS = 256;
  private static final Pattern CLUSTER_ID = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private ProtoMapper() {}

  /** True when {@code id} is a valid cluster ID (a DNS label). */
  public static boolean isClusterId(String id) {
    return id != null && CLUSTER_ID.matcher(id).matches();
  }

  /** Checks a cluster ID given in field {@code field}. */
  public static String clusterId(String field, String id) throws Rejection {
    if (!isClusterId(id)) {
      throw Rejection.invalid(field, "\"" + id + "\" is not a cluster ID (a DNS label: 1..63 of [a-z0-9-], "
          + "starting and ending with a letter or digit)");
    }
    return id;
  }

  /**
   * Validates and converts an announced record. {@code callerId} is the cluster ID of the caller's
   * certificate; {@code revision} and {@code acceptedAt} are left for the log to set.
   */
  public static ClusterRecord fromProto(io.meshwire.proto.rendezvous.v1.ClusterRecord p, String callerId)
      throws Rejection {
    String id = clusterId("record.cluster_id", p.getClusterId());
    if (!id.equals(callerId)) {
      throw new Rejection(Rejection.Kind.PERMISSION_DENIED, "record.cluster_id: \"" + id
          + "\" differs from the caller's certificate (cluster \"" + callerId + "\")");
    }
    WireGuardKey key;
    try {
      key = new WireGuardKey(p.getWireguardPublicKey().toByteArray());
    } catch (IllegalArgumentException e) {
      throw Rejection.invalid("record.wireguard_public_key", e.getMessage());
    }
    int port = p.getWireguardListenPort();
    if (port < 1 || port > 65535) {
      throw Rejection.invalid("record.wireguard_listen_port", port + " out of range 1..65535");
    }
    List<HostPort> endpoints = endpoints("record.gateway_endpoints", p.getGatewayEndpointsList());
    List<Cidr> pods = cidrs("record.pod_cidrs", p.getPodCidrsList(), 1);
    List<Cidr> services = cidrs("record.service_cidrs", p.getServiceCidrsList(), 0);
    checkNoOverlap(pods, services);
    Optional<HostPort> peerChannel = Optional.empty();
    if (!p.getPeerChannelAddress().isEmpty()) {
      try {
        peerChannel = Optional.of(HostPort.parse(p.getPeerChannelAddress()));
      } catch (IllegalArgumentException e) {
        throw Rejection.invalid("record.peer_channel_address", e.getMessage());
      }
    }
    Map<String, String> labels = p.getLabelsMap();
    if (labels.size() > MAX_LABELS) {
      throw Rejection.invalid("record.labels", labels.size() + " labels, at most " + MAX_LABELS);
    }
    for (var label : labels.entrySet()) {
      if (label.getKey().isEmpty() || label.getKey().length() > MAX_LABEL_KEY) {
        throw Rejection.invalid("record.labels", "key \"" + label.getKey() + "\" must be 1.." + MAX_LABEL_KEY
            + " characters");
      }
      if (label.getValue().length() > MAX_LABEL_VALUE) {
        throw Rejection.invalid("record.labels[" + label.getKey() + "]", "value longer than " + MAX_LABEL_VALUE
            + " characters");
      }
    }
    if (p.getAgentVersion().length() > MAX_VERSION) {
      throw Rejection.invalid("record.agent_version", "longer than " + MAX_VERSION + " characters");
    }
    if (p.getGeneration() < 1) {
      throw Rejection.invalid("record.generation", "must be >= 1");
    }
    return new ClusterRecord(id, key, port, endpoints, pods, services, peerChannel, labels, p.getAgentVersion(),
        p.getGeneration(), Instant.EPOCH, 0);
  }

  private static List<HostPort> endpoints(String field, List<String> values) throws Rejection {
    if (values.isEmpty() || values.size() > MAX_ENDPOINTS) {
      throw Rejection.invalid(field, values.size() + " entries, expected 1.." + MAX_ENDPOINTS);
    }
    List<HostPort> out = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      try {
        out.add(HostPort.parse(values.get(i)));
      } catch (IllegalArgumentException e) {
        throw Rejection.invalid(field + "[" + i + "]", e.getMessage());
      }
    }
    return out;
  }

  private static List<Cidr> cidrs(String field, List<String> values, int min) throws Rejection {
    if (values.size() < min || values.size() > MAX_CIDRS) {
      throw Rejection.invalid(field, values.size() + " entries, expected " + min + ".." + MAX_CIDRS);
    }
    List<Cidr> out = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      out.add(cidr(field + "[" + i + "]", values.get(i)));
    }
    return out;
  }

  private static Cidr cidr(String field, String value) throws Rejection {
    try {
      return Cidr.parse(value);
    } catch (IllegalArgumentException e) {
      throw Rejection.invalid(field, e.getMessage());
    }
  }

  private static void checkNoOverlap(List<Cidr> pods, List<Cidr> services) throws Rejection {
    List<String> names = new ArrayList<>();
    List<Cidr> all = new ArrayList<>();
    for (int i = 0; i < pods.size(); i++) {
      names.add("record.pod_cidrs[" + i + "]");
      all.add(pods.get(i));
    }
    for (int i = 0; i < services.size(); i++) {
      names.add("record.service_cidrs[" + i + "]");
      all.add(services.get(i));
    }
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        if (all.get(i).overlaps(all.get(j))) {
          throw Rejection.invalid(names.get(j), "\"" + all.get(j) + "\" overlaps " + names.get(i) + " \""
              + all.get(i) + "\" of the same cluster");
        }
      }
    }
  }

  /**
   * Validates and converts a view published by {@code observer}. A mapping must name one of the
   * subject's pod CIDRs ({@code subjectPodCidrs}, empty when the subject is unknown: the log
   * rejects that case) and a same-size block of the same family.
   */
  public static PeerView fromProto(String field, io.meshwire.proto.rendezvous.v1.PeerView p, String observer)
      throws Rejection {
    String subject = clusterId(field + ".subject_cluster_id", p.getSubjectClusterId());
    if (subject.equals(observer)) {
      throw Rejection.invalid(field + ".subject_cluster_id", "a cluster cannot publish a view of itself");
    }
    if (p.getMappingsCount() > MAX_CIDRS) {
      throw Rejection.invalid(field + ".mappings", p.getMappingsCount() + " entries, at most " + MAX_CIDRS);
    }
    List<PeerView.Mapping> mappings = new ArrayList<>();
    for (int i = 0; i < p.getMappingsCount(); i++) {
      String mf = field + ".mappings[" + i + "]";
      Cidr original = cidr(mf + ".original", p.getMappings(i).getOriginal());
      Cidr seenAs = cidr(mf + ".seen_as", p.getMappings(i).getSeenAs());
      if (original.isIpv4() != seenAs.isIpv4() || original.prefixLength() != seenAs.prefixLength()) {
        throw Rejection.invalid(mf + ".seen_as", "\"" + seenAs + "\" must have the family and prefix length of \""
            + original + "\"");
      }
      mappings.add(new PeerView.Mapping(original, seenAs));
    }
    if (p.getGeneration() < 1) {
      throw Rejection.invalid(field + ".generation", "must be >= 1");
    }
    return new PeerView(observer, subject, mappings, p.getGeneration());
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
        .setRevision(r.revision());
    r.gatewayEndpoints().forEach(e -> b.addGatewayEndpoints(e.toString()));
    r.podCidrs().forEach(c -> b.addPodCidrs(c.toString()));
    r.serviceCidrs().forEach(c -> b.addServiceCidrs(c.toString()));
    r.peerChannelAddress().ifPresent(a -> b.setPeerChannelAddress(a.toString()));
    return b.build();
  }

  /** Converts a record the hub itself wrote (store, snapshot): trusted, so no caller check. */
  public static ClusterRecord fromStored(io.meshwire.proto.rendezvous.v1.ClusterRecord p) {
    try {
      ClusterRecord r = fromProto(p, p.getClusterId());
      return r.accepted(instant(p.getAcceptedAt()), p.getRevision());
    } catch (Rejection e) {
      throw new IllegalStateException("stored record of \"" + p.getClusterId() + "\" is invalid: " + e.getMessage(), e);
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

  /** Converts a view the hub itself wrote. */
  public static PeerView fromStored(io.meshwire.proto.rendezvous.v1.PeerView p) {
    try {
      return fromProto("view", p, p.getObserverClusterId());
    } catch (Rejection e) {
      throw new IllegalStateException("stored view is invalid: " + e.getMessage(), e);
    }
  }

  public static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  public static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
