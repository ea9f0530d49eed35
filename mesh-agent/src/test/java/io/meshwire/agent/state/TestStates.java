package io.meshwire.agent.state;

import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code TestStates} builds well-formed agent state for unit tests: peer {@code n} has key bytes
 * all {@code n}, endpoint {@code 198.18.0.n:51820}, pod CIDR {@code 10.n.0.0/16}, service CIDR
 * {@code 10.200.n.0/24} (the same shape as {@code HubFixture.record}).
 */
public final class TestStates {

  private TestStates() {}

  /** A base64 WireGuard key of 32 bytes all equal to {@code n}. */
  public static String key(int n) {
    byte[] raw = new byte[32];
    Arrays.fill(raw, (byte) n);
    return Base64.getEncoder().encodeToString(raw);
  }

  public static PeerRecord peer(String clusterId, int n) {
    return peer(clusterId, n, 1, 1);
  }

  public static PeerRecord peer(String clusterId, int n, long generation, long revision) {
    return new PeerRecord(clusterId, key(n), 51820, List.of(new HostPort("198.18.0." + n, 51820)),
        List.of(Cidr.parse("10." + n + ".0.0/16")), List.of(Cidr.parse("10.200." + n + ".0/24")),
        Optional.of(new HostPort("10." + n + ".0.1", 7444)), Map.of("region", "test"), generation, revision);
  }

  /** A view in which {@code observer} sees {@code original} of {@code subject} as {@code seenAs}. */
  public static View view(String observer, String subject, String original, String seenAs) {
    return new View(observer, subject, List.of(new View.Mapping(Cidr.parse(original), Cidr.parse(seenAs))), 1);
  }

  /** Peers by ID, for {@link AgentState#withPeers}. */
  public static Map<String, PeerRecord> byId(PeerRecord... peers) {
    Map<String, PeerRecord> out = new LinkedHashMap<>();
    for (PeerRecord p : peers) {
      out.put(p.clusterId(), p);
    }
    return out;
  }

  /** A state of mesh {@code meshUid} at {@code revision} with {@code peers} and no views. */
  public static AgentState state(String meshUid, long revision, PeerRecord... peers) {
    return new AgentState(meshUid, revision, 3, key(0x77), byId(peers), Map.of(), Map.of(), Instant.EPOCH);
  }
}
