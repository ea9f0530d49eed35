package io.meshwire.agent.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Addresses of peers as this cluster sees them and back, and this cluster's as a peer sees it. */
class ViewTranslatorTest {

  private static final List<Cidr> MINE = List.of(Cidr.parse("10.244.0.0/16"), Cidr.parse("fd00:10::/64"));

  private static PeerRecord peer(String id, int n, String... podCidrs) {
    PeerRecord base = TestStates.peer(id, n);
    return new PeerRecord(id, base.wireguardPublicKey(), 51820, base.gatewayEndpoints(),
        java.util.Arrays.stream(podCidrs).map(Cidr::parse).toList(), List.of(), Optional.empty(), Map.of(), 1, 1);
  }

  private static View.Mapping m(String original, String seenAs) {
    return new View.Mapping(Cidr.parse(original), Cidr.parse(seenAs));
  }

  /**
   * west (10.244/16 and fd00:10::/64, like us) is remapped; north (10.7/16) seen as itself; south
   * has no view (exhausted). west sees us as 10.50/16 and fd99:50::/64.
   */
  private static final ViewTranslator T = ViewTranslator.of("east", MINE,
      TestStates.state("m", 1, peer("west", 2, "10.244.0.0/16", "fd00:10::/64"), peer("north", 3, "10.7.0.0/16"),
          peer("south", 4, "10.244.0.0/16"))
          .withMyViews(Map.of(
              "west", new View("east", "west",
                  List.of(m("10.244.0.0/16", "10.1.0.0/16"), m("fd00:10::/64", "fd99:1::/64")), 5),
              "north", new View("east", "north", List.of(m("10.7.0.0/16", "10.7.0.0/16")), 5)))
          .withViewsOfMe(Map.of("west", new View("west", "east",
              List.of(m("10.244.0.0/16", "10.50.0.0/16"), m("fd00:10::/64", "fd99:50::/64")), 9))));

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
    "west  | 10.244.3.7       | 10.1.3.7",
    "west  | 10.244.0.0       | 10.1.0.0",
    "west  | 10.244.255.255   | 10.1.255.255",
    "west  | fd00:10::beef    | fd99:1::beef",
    "north | 10.7.1.2         | 10.7.1.2",
    "west  | 10.245.0.1       | -",   // not a pod address of west
    "south | 10.244.0.1       | -",   // no view: not reachable
    "nobody | 10.244.0.1      | -",
  })
  void peerAddressesAsThisClusterSeesThemAndBack(String peer, String address, String local) {
    Optional<java.net.InetAddress> expected = Optional.ofNullable(local).map(Cidr::parseAddress);
    assertEquals(expected, T.toLocal(peer, Cidr.parseAddress(address)));
    expected.ifPresent(l -> assertEquals(Optional.of(Cidr.parseAddress(address)), T.toPeer(peer, l)));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
    "west  | 10.1.3.7    | 10.244.3.7",
    "west  | 10.244.3.7  | -",    // that is our own range, not west as we see it
    "north | 10.7.0.9    | 10.7.0.9",
  })
  void localAddressesBackToThePeer(String peer, String local, String address) {
    assertEquals(Optional.ofNullable(address).map(Cidr::parseAddress), T.toPeer(peer, Cidr.parseAddress(local)));
  }

  @ParameterizedTest(name = "{0} sees {1} as {2}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
    "west  | 10.244.0.10    | 10.50.0.10",
    "west  | fd00:10::a     | fd99:50::a",
    "north | 10.244.0.10    | 10.244.0.10",  // no view of us: as ourselves
    "west  | 10.9.0.1       | -",            // not one of our pods
  })
  void ownAddressesAsAPeerSeesThem(String peer, String own, String seen) {
    assertEquals(Optional.ofNullable(seen).map(Cidr::parseAddress), T.asSeenBy(peer, Cidr.parseAddress(own)));
  }
}
