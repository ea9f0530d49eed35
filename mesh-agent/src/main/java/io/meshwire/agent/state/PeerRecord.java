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
 * @param probePort the UDP port the peer answers direct-path probes on (at its gateway endpoints'
 *     hosts), or 0 when it did not announce one (an older agent: see {@link #probePortOr})
 * @param relayOnly the hub's peering policy allows this link through a relay only, never direct
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
    long revision,
    int probePort,
    boolean relayOnly) {

  public PeerRecord {
    gatewayEndpoints = List.copyOf(gatewayEndpoints);
    podCidrs = List.copyOf(podCidrs);
    serviceCidrs = List.copyOf(serviceCidrs);
    labels = Map.copyOf(labels);
    if (probePort < 0 || probePort > 65535) {
      throw new IllegalArgumentException("peer " + clusterId + ": probe port " + probePort + " out of range 0..65535");
    }
  }

  /** A peer without an announced probe port, which the policy lets connect directly. */
  public PeerRecord(String clusterId, String wireguardPublicKey, int wireguardListenPort,
      List<HostPort> gatewayEndpoints, List<Cidr> podCidrs, List<Cidr> serviceCidrs,
      Optional<HostPort> peerChannelAddress, Map<String, String> labels, long generation, long revision) {
    this(clusterId, wireguardPublicKey, wireguardListenPort, gatewayEndpoints, podCidrs, serviceCidrs,
        peerChannelAddress, labels, generation, revision, 0, false);
  }

  /**
   * The peer's probe port: the announced one, else the convention of agents that announce none,
   * the WireGuard port of {@code gatewayPort} (the endpoint peers reach) + 1.
   */
  public int probePortOr(int gatewayPort) {
    if (probePort != 0) {
      return probePort;
    }
    return gatewayPort == 65535 ? 65534 : gatewayPort + 1;
  }
}
