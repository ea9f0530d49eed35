package io.meshwire.netlab.netns;

/**
 * {@code ClusterNet} is one simulated cluster made by {@link NetworkNamespaces#addCluster}: a
 * gateway namespace on "the internet" and a workload namespace standing for a pod behind it.
 * Immutable.
 *
 * @param name the short name given to {@code addCluster}, e.g. {@code a}
 * @param gateway the gateway's namespace, where the agent's data plane runs (IP forwarding on)
 * @param workload the workload's namespace, default route via the gateway
 * @param publicAddress the gateway's address on the test internet (198.18.0.0/24), no prefix
 * @param podCidr the cluster's pod CIDR, e.g. {@code 10.101.0.0/16}
 * @param gatewayPodAddress the gateway's address on the pod side (network + 1), no prefix
 * @param workloadAddress the workload's address (network + 10), no prefix
 * @param wireGuardInterface a name for the gateway's WireGuard interface, unique on the host
 *     (wireguard-go's sockets share {@code /var/run/wireguard} across namespaces)
 * @param uplink the gateway's interface on the test internet (down = the cluster is cut off)
 */
public record ClusterNet(
    String name,
    String gateway,
    String workload,
    String publicAddress,
    String podCidr,
    String gatewayPodAddress,
    String workloadAddress,
    String wireGuardInterface,
    String uplink) {}
