package io.meshwire.agent.reflect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.ipam.ViewTranslator;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Where a peer's channel is dialled: announced pod addresses go through this cluster's view. */
class DialAddressTest {
  private static final List<Cidr> OWN = List.of(Cidr.parse("10.1.0.0/16"));

  private static PeerRecord withChannel(String host) {
    PeerRecord p = TestStates.peer("a", 1); // pod CIDR 10.1.0.0/16, like ours: an overlap
    return new PeerRecord(p.clusterId(), p.wireguardPublicKey(), p.wireguardListenPort(), p.gatewayEndpoints(),
        p.podCidrs(), p.serviceCidrs(), Optional.of(new HostPort(host, 7444)), p.labels(), p.generation(),
        p.revision());
  }

  private static Optional<HostPort> dial(PeerRecord peer, boolean viewDecided) {
    AgentState s = TestStates.state("m", 1, peer);
    if (viewDecided) {
      s = s.withMyViews(Map.of("a", TestStates.view("b", "a", "10.1.0.0/16", "10.201.0.0/16")));
    }
    return PeerLinks.dialAddress(ViewTranslator.of("b", OWN, s), peer);
  }

  @Test
  void aPodAddressIsDialledWhereThisClusterSeesIt() {
    assertEquals(Optional.of(new HostPort("10.201.0.1", 7444)), dial(withChannel("10.1.0.1"), true));
  }

  @Test
  void aPodAddressWaitsForTheViewBecauseOverlappingPeersAnnounceOurOwnAddresses() {
    assertEquals(Optional.empty(), dial(withChannel("10.1.0.1"), false));
  }

  @Test
  void otherAddressesAndNamesAreDialledAsAnnounced() {
    assertEquals(Optional.of(new HostPort("198.18.0.7", 7444)), dial(withChannel("198.18.0.7"), true));
    assertEquals(Optional.of(new HostPort("peer.a.example", 7444)), dial(withChannel("peer.a.example"), false));
  }
}
