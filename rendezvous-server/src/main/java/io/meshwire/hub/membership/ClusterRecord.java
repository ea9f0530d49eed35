package io.meshwire.hub.membership;

import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ClusterRecord} is one cluster's network parameters as the hub stores them: validated,
 * canonical, immutable. {@code revision} and {@code acceptedAt} are set by the hub.
 * {@code probePort} is 0 when the agent did not announce one (an older agent).
 */
public record ClusterRecord(
    String clusterId,
    WireGuardKey wireguardPublicKey,
    int wireguardListenPort,
    List<HostPort> gatewayEndpoints,
    List<Cidr> podCidrs,
    List<Cidr> serviceCidrs,
    Optional<HostPort> peerChannelAddress,
    Map<String, String> labels,
    String agentVersion,
    long generation,
    Instant acceptedAt,
    long revision,
    int probePort) {

  public ClusterRecord {
    gatewayEndpoints = List.copyOf(gatewayEndpoints);
    podCidrs = List.copyOf(podCidrs);
    serviceCidrs = List.copyOf(serviceCidrs);
    labels = Map.copyOf(labels);
  }

  /** A record without an announced probe port (peers then use the WireGuard port + 1). */
  public ClusterRecord(String clusterId, WireGuardKey wireguardPublicKey, int wireguardListenPort,
      List<HostPort> gatewayEndpoints, List<Cidr> podCidrs, List<Cidr> serviceCidrs,
      Optional<HostPort> peerChannelAddress, Map<String, String> labels, String agentVersion, long generation,
      Instant acceptedAt, long revision) {
    this(clusterId, wireguardPublicKey, wireguardListenPort, gatewayEndpoints, podCidrs, serviceCidrs,
        peerChannelAddress, labels, agentVersion, generation, acceptedAt, revision, 0);
  }

  /** The same record as accepted by the hub at {@code revision}. */
  public ClusterRecord accepted(Instant at, long atRevision) {
    return new ClusterRecord(clusterId, wireguardPublicKey, wireguardListenPort, gatewayEndpoints,
        podCidrs, serviceCidrs, peerChannelAddress, labels, agentVersion, generation, at, atRevision, probePort);
  }
}
