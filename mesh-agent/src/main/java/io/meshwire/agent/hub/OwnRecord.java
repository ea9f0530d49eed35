package io.meshwire.agent.hub;

import com.google.protobuf.ByteString;
import io.meshwire.agent.state.AgentState;
import io.meshwire.certs.WireGuardKeyPair;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * {@code OwnRecord} is what the agent announces about its cluster: the configured part here, the
 * WireGuard key and the generation from the state. Immutable.
 */
public record OwnRecord(String clusterId, int listenPort, List<HostPort> endpoints, List<Cidr> podCidrs,
    List<Cidr> serviceCidrs, Optional<HostPort> peerChannel, String agentVersion, int probePort) {

  public OwnRecord {
    endpoints = List.copyOf(endpoints);
    podCidrs = List.copyOf(podCidrs);
    serviceCidrs = List.copyOf(serviceCidrs);
  }

  /** The same record with these gateway endpoints (they moved). */
  public OwnRecord withEndpoints(List<HostPort> moved) {
    return new OwnRecord(clusterId, listenPort, moved, podCidrs, serviceCidrs, peerChannel, agentVersion, probePort);
  }

  /** The record to announce with the state's WireGuard public key and own generation. */
  public ClusterRecord toProto(AgentState s) {
    WireGuardKeyPair keys = WireGuardKeyPair.fromPrivateBase64(s.wireguardPrivateKey());
    ClusterRecord.Builder b = ClusterRecord.newBuilder()
        .setClusterId(clusterId)
        .setWireguardPublicKey(ByteString.copyFrom(Base64.getDecoder().decode(keys.publicKeyBase64())))
        .setWireguardListenPort(listenPort)
        .setProbePort(probePort)
        .setAgentVersion(agentVersion)
        .setGeneration(s.ownGeneration());
    endpoints.forEach(e -> b.addGatewayEndpoints(e.toString()));
    podCidrs.forEach(c -> b.addPodCidrs(c.toString()));
    serviceCidrs.forEach(c -> b.addServiceCidrs(c.toString()));
    peerChannel.ifPresent(p -> b.setPeerChannelAddress(p.toString()));
    return b.build();
  }
}
