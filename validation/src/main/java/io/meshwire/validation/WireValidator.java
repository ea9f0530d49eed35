package io.meshwire.validation;

import io.meshwire.netaddr.AddressPolicy;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.netaddr.Quote;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code WireValidator} holds the one validator of each rendezvous message that carries state
 * ({@link #clusterRecord} for {@code ClusterRecord}, {@link #peerView} for {@code PeerView}). The
 * hub calls it on its write path and again on every record it reads back at recovery; the agent
 * calls it on every record and view it receives. So what the hub accepted, it can always read
 * back, and what the hub refuses, an agent refuses too. Every bound written in rendezvous.proto is
 * checked here, plus the {@link AddressPolicy}. Immutable and thread-safe.
 *
 * <p>Checks that need the caller or the stored state (the record's cluster ID equals the caller's
 * certificate; generations only grow; a view's subject is a member) are not here: they belong to
 * the hub's write path.
 */
public final class WireValidator {

  public static final int MAX_ENDPOINTS = 8;
  public static final int MAX_CIDRS = 16;
  public static final int MAX_LABELS = 32;
  public static final int MAX_LABEL_KEY = 63;
  public static final int MAX_LABEL_VALUE = 253;
  public static final int MAX_VERSION = 64;
  /**
   * The highest generation accepted: 2^53 - 1. Agents use {@code max(previous + 1, epoch millis)}
   * (about 2^41 today); a bound far below 2^63 - 1 means no record can be pinned at the top of the
   * range, and every generation survives JSON and the CLI exactly.
   */
  public static final long MAX_GENERATION = (1L << 53) - 1;

  private static final Pattern CLUSTER_ID = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  /** The parsed, checked parts of a {@code ClusterRecord}, in canonical form. */
  public record CheckedRecord(String clusterId, byte[] wireguardPublicKey, int wireguardListenPort,
      List<HostPort> gatewayEndpoints, List<Cidr> podCidrs, List<Cidr> serviceCidrs,
      Optional<HostPort> peerChannelAddress, Map<String, String> labels, String agentVersion, long generation,
      int probePort) {}

  /** One checked mapping of a view. */
  public record CheckedMapping(Cidr original, Cidr seenAs) {}

  /** The parsed, checked parts of a {@code PeerView}. */
  public record CheckedView(String observerClusterId, String subjectClusterId, List<CheckedMapping> mappings,
      long generation) {}

  private final AddressPolicy policy;

  public WireValidator(AddressPolicy policy) {
    this.policy = policy;
  }

  /** The validator with {@link AddressPolicy#DEFAULT}. */
  public static WireValidator defaults() {
    return new WireValidator(AddressPolicy.DEFAULT);
  }

  public AddressPolicy policy() {
    return policy;
  }

  /** True when {@code id} is a valid cluster ID (a DNS label). */
  public static boolean isClusterId(String id) {
    return id != null && id.length() <= 63 && CLUSTER_ID.matcher(id).matches();
  }

  /** Checks a cluster ID given in {@code field}. */
  public static String clusterId(String field, String id) throws InvalidField {
    if (!isClusterId(id)) {
      throw new InvalidField(field, Quote.of(id) + " is not a cluster ID (a DNS label: 1..63 of [a-z0-9-], "
          + "starting and ending with a letter or digit)");
    }
    return id;
  }

  /**
   * Checks a {@code ClusterRecord}; {@code field} names it in errors ({@code "record"}; empty when
   * the caller says which record in its own words). The
   * fields set by the hub (accepted_at, revision) are not checked.
   *
   * @throws InvalidField naming the first field that breaks a rule
   */
  public CheckedRecord clusterRecord(String field, ClusterRecord p) throws InvalidField {
    String id = clusterId(at(field, "cluster_id"), p.getClusterId());
    if (p.getWireguardPublicKey().size() != 32) {
      throw new InvalidField(at(field, "wireguard_public_key"), "must be 32 bytes, got "
          + p.getWireguardPublicKey().size());
    }
    int port = p.getWireguardListenPort(); // uint32: above 2^31 arrives negative
    if (port < 1 || port > 65535) {
      throw new InvalidField(at(field, "wireguard_listen_port"), Integer.toUnsignedString(port)
          + " out of range 1..65535");
    }
    List<HostPort> endpoints = endpoints(at(field, "gateway_endpoints"), p.getGatewayEndpointsList());
    List<Cidr> pods = cidrs(at(field, "pod_cidrs"), p.getPodCidrsList(), 1);
    List<Cidr> services = cidrs(at(field, "service_cidrs"), p.getServiceCidrsList(), 0);
    checkNoOverlap(field, pods, services);
    Optional<HostPort> peerChannel = Optional.empty();
    if (!p.getPeerChannelAddress().isEmpty()) {
      peerChannel = Optional.of(hostPort(at(field, "peer_channel_address"), p.getPeerChannelAddress()));
    }
    Map<String, String> labels = p.getLabelsMap();
    if (labels.size() > MAX_LABELS) {
      throw new InvalidField(at(field, "labels"), labels.size() + " labels, at most " + MAX_LABELS);
    }
    for (var label : labels.entrySet()) {
      if (label.getKey().isEmpty() || label.getKey().length() > MAX_LABEL_KEY) {
        throw new InvalidField(at(field, "labels"), "key " + Quote.of(label.getKey()) + " must be 1.."
            + MAX_LABEL_KEY + " characters");
      }
      if (label.getValue().length() > MAX_LABEL_VALUE) {
        throw new InvalidField(field + ".labels[" + label.getKey() + "]", "value of " + label.getValue().length()
            + " characters, at most " + MAX_LABEL_VALUE);
      }
    }
    if (p.getAgentVersion().length() > MAX_VERSION) {
      throw new InvalidField(at(field, "agent_version"), p.getAgentVersion().length() + " characters, at most "
          + MAX_VERSION);
    }
    int probePort = p.getProbePort(); // uint32: above 2^31 arrives negative
    if (probePort < 0 || probePort > 65535) {
      throw new InvalidField(at(field, "probe_port"), Integer.toUnsignedString(probePort)
          + " out of range 0..65535 (0: not announced)");
    }
    if (probePort == port) {
      throw new InvalidField(at(field, "probe_port"), probePort
          + " is the WireGuard listen port; probes need a port of their own");
    }
    long generation = generation(at(field, "generation"), p.getGeneration());
    return new CheckedRecord(id, p.getWireguardPublicKey().toByteArray(), port, endpoints, pods, services,
        peerChannel, labels, p.getAgentVersion(), generation, probePort);
  }

  /**
   * Checks a {@code PeerView} whose observer is set (the hub sets it from the caller's certificate
   * before checking). Each mapping names a CIDR of the subject and a block of the same family and
   * size that the policy allows.
   *
   * @throws InvalidField naming the first field that breaks a rule
   */
  public CheckedView peerView(String field, PeerView p) throws InvalidField {
    String observer = clusterId(at(field, "observer_cluster_id"), p.getObserverClusterId());
    String subject = clusterId(at(field, "subject_cluster_id"), p.getSubjectClusterId());
    if (subject.equals(observer)) {
      throw new InvalidField(at(field, "subject_cluster_id"), "a cluster cannot publish a view of itself");
    }
    if (p.getMappingsCount() > MAX_CIDRS) {
      throw new InvalidField(at(field, "mappings"), p.getMappingsCount() + " entries, at most " + MAX_CIDRS);
    }
    List<CheckedMapping> mappings = new ArrayList<>(p.getMappingsCount());
    for (int i = 0; i < p.getMappingsCount(); i++) {
      String mf = at(field, "mappings[" + i + "]");
      Cidr original = cidr(mf + ".original", p.getMappings(i).getOriginal());
      Cidr seenAs = cidr(mf + ".seen_as", p.getMappings(i).getSeenAs());
      if (original.isIpv4() != seenAs.isIpv4() || original.prefixLength() != seenAs.prefixLength()) {
        throw new InvalidField(mf + ".seen_as", "\"" + seenAs + "\" must have the family and prefix length of \""
            + original + "\"");
      }
      mappings.add(new CheckedMapping(original, seenAs));
    }
    return new CheckedView(observer, subject, mappings, generation(at(field, "generation"), p.getGeneration()));
  }

  /** {@code prefix.name}, or just {@code name} when the caller names the message itself. */
  private static String at(String prefix, String name) {
    return prefix.isEmpty() ? name : prefix + "." + name;
  }

  private static long generation(String field, long value) throws InvalidField {
    // uint64 on the wire: above 2^63 - 1 it arrives negative.
    if (value < 1 || value > MAX_GENERATION) {
      throw new InvalidField(field, Long.toUnsignedString(value) + " out of range 1.." + MAX_GENERATION);
    }
    return value;
  }

  private static List<HostPort> endpoints(String field, List<String> values) throws InvalidField {
    if (values.isEmpty() || values.size() > MAX_ENDPOINTS) {
      throw new InvalidField(field, values.size() + " entries, expected 1.." + MAX_ENDPOINTS);
    }
    List<HostPort> out = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      out.add(hostPort(field + "[" + i + "]", values.get(i)));
    }
    return out;
  }

  private static HostPort hostPort(String field, String value) throws InvalidField {
    try {
      return HostPort.parse(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidField(field, e.getMessage());
    }
  }

  private List<Cidr> cidrs(String field, List<String> values, int min) throws InvalidField {
    if (values.size() < min || values.size() > MAX_CIDRS) {
      throw new InvalidField(field, values.size() + " entries, expected " + min + ".." + MAX_CIDRS);
    }
    List<Cidr> out = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      out.add(cidr(field + "[" + i + "]", values.get(i)));
    }
    return out;
  }

  /** Parses a CIDR and applies the address policy. */
  private Cidr cidr(String field, String value) throws InvalidField {
    Cidr cidr;
    try {
      cidr = Cidr.parse(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidField(field, e.getMessage());
    }
    Optional<String> problem = policy.problem(cidr);
    if (problem.isPresent()) {
      throw new InvalidField(field, problem.get());
    }
    return cidr;
  }

  private static void checkNoOverlap(String field, List<Cidr> pods, List<Cidr> services) throws InvalidField {
    List<String> names = new ArrayList<>();
    List<Cidr> all = new ArrayList<>();
    for (int i = 0; i < pods.size(); i++) {
      names.add(field + ".pod_cidrs[" + i + "]");
      all.add(pods.get(i));
    }
    for (int i = 0; i < services.size(); i++) {
      names.add(field + ".service_cidrs[" + i + "]");
      all.add(services.get(i));
    }
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        if (all.get(i).overlaps(all.get(j))) {
          throw new InvalidField(names.get(j), "\"" + all.get(j) + "\" overlaps " + names.get(i) + " \""
              + all.get(i) + "\" of the same cluster");
        }
      }
    }
  }
}
