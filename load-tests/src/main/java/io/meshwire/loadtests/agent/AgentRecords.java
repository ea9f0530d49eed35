package io.meshwire.loadtests.agent;

import com.google.protobuf.ByteString;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;

/**
 * {@code AgentRecords} makes the {@code ClusterRecord} a simulated agent announces: unique and
 * valid for agent indexes below 65,024 (pod CIDR {@code 10.<hi>.<lo>.0/24}), about 150 bytes
 * encoded, like a small real cluster's. Stateless.
 */
public final class AgentRecords {

  /** Agent indexes must stay below this so that pod CIDRs stay unique and inside 10.0.0.0/8. */
  public static final int MAX_AGENTS = 254 * 256;

  private AgentRecords() {}

  public static String clusterId(int index) {
    return String.format("a-%05d", index);
  }

  public static ClusterRecord record(int index, long generation) {
    if (index < 0 || index >= MAX_AGENTS) {
      throw new IllegalArgumentException("agent index " + index + " out of range 0.." + (MAX_AGENTS - 1));
    }
    int hi = index >> 8;
    int lo = index & 0xff;
    byte[] key = new byte[32];
    key[0] = (byte) hi;
    key[1] = (byte) lo;
    key[31] = (byte) generation;
    return ClusterRecord.newBuilder()
        .setClusterId(clusterId(index))
        .setWireguardPublicKey(ByteString.copyFrom(key))
        .setWireguardListenPort(51820)
        .addGatewayEndpoints("198.18." + hi + "." + lo + ":51820")
        .addPodCidrs("10." + hi + "." + lo + ".0/24")
        .addServiceCidrs("10.255.0.0/16")
        .setPeerChannelAddress("10." + hi + "." + lo + ".1:7444")
        .putLabels("region", "bench")
        .setAgentVersion("bench")
        .setGeneration(generation)
        .build();
  }
}
