package io.meshwire.agent.state;

import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code PeerRecord} is another cluster's network parameters as this agent last received them
 * from the hub. Immutable.
 *
 * @param wireguardPublicKey base64, as {@code wg pubkey} prints it
 */
public record PeerRecord(
    String clusterId,
    String wireguardPublicKey,
    int wireguardListenPort,
    List<HostPort> gatewayEndpoints,
    List<Cidr> podCidrs,
    List<Cidr> serviceCidrs,
    Optional<HostPort> peerChannelAddress,
    Map<String, String> labels,
    long generation,
    long revision) {

  public PeerRecord {
    gatewayEndpoints = List.copyOf(gatewayEndpoints);
    podCidrs = List.copyOf(podCidrs);
    serviceCidrs = List.copyOf(serviceCidrs);
    labels = Map.copyOf(labels);
  }
}
