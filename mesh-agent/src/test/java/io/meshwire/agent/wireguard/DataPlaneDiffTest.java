package io.meshwire.agent.wireguard;

import static io.meshwire.agent.wireguard.TestKeys.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.meshwire.netaddr.Cidr;
import io.meshwire.agent.wireguard.Change.AddPeer;
import io.meshwire.agent.wireguard.Change.AddRoute;
import io.meshwire.agent.wireguard.Change.PeerField;
import io.meshwire.agent.wireguard.Change.RemovePeer;
import io.meshwire.agent.wireguard.Change.RemoveRoute;
import io.meshwire.agent.wireguard.Change.UpdatePeer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DataPlaneDiffTest {
  private static final String B = key(0x0b);
  private static final String C = key(0x0c);
  private static final String D = key(0x0d);
  private static final Duration KA = WgPeer.DEFAULT_KEEPALIVE;

  private static InetSocketAddress ep(String address, int port) {
    return new InetSocketAddress(Cidr.parseAddress(address), port);
  }

  private static List<Cidr> cidrs(String... texts) {
    return Arrays.stream(texts).map(Cidr::parse).toList();
  }

  private static WgPeer peer(String key, String endpoint, String... allowed) {
    return new WgPeer(
        key, Optional.ofNullable(endpoint).map(e -> ep(e, 51820)), cidrs(allowed), KA);
  }

  private static WgPeerState state(String key, String endpoint, Duration keepalive, String... allowed) {
    return new WgPeerState(
        key,
        Optional.ofNullable(endpoint).map(e -> ep(e.split(":")[0], Integer.parseInt(e.split(":")[1]))),
        cidrs(allowed),
        Optional.of(Instant.ofEpochSecond(1_700_000_000)),
        100,
        200,
        keepalive);
  }

  private static WgInterfaceState iface(WgPeerState... peers) {
    return new WgInterfaceState(key(1), key(2), 51820, List.of(peers));
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        arguments("nothing desired, nothing there",
            List.of(), iface(), List.of(), List.of(), Map.of(),
            List.of()),
        arguments("a new peer and its route",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16")), iface(),
            cidrs("10.102.0.0/16"), List.of(), Map.of(),
            List.of(new AddPeer(peer(B, "198.18.0.12", "10.102.0.0/16")),
                new AddRoute(Cidr.parse("10.102.0.0/16")))),
        arguments("in sync: allowed IPs and routes in another order",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16", "10.202.0.0/16")),
            iface(state(B, "198.18.0.12:51820", KA, "10.202.0.0/16", "10.102.0.0/16")),
            cidrs("10.202.0.0/16", "10.102.0.0/16"), cidrs("10.102.0.0/16", "10.202.0.0/16"),
            Map.of(),
            List.of()),
        arguments("a peer and its route that are no longer desired",
            List.of(),
            iface(state(B, "198.18.0.12:51820", KA, "10.102.0.0/16")),
            List.of(), cidrs("10.102.0.0/16"), Map.of(),
            List.of(new RemoveRoute(Cidr.parse("10.102.0.0/16")), new RemovePeer(B))),
        arguments("allowed IPs grew: update and one more route",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16", "10.202.0.0/16")),
            iface(state(B, "198.18.0.12:51820", KA, "10.102.0.0/16")),
            cidrs("10.102.0.0/16", "10.202.0.0/16"), cidrs("10.102.0.0/16"), Map.of(),
            List.of(new UpdatePeer(peer(B, "198.18.0.12", "10.102.0.0/16", "10.202.0.0/16"),
                    Set.of(PeerField.ALLOWED_IPS)),
                new AddRoute(Cidr.parse("10.202.0.0/16")))),
        arguments("keepalive off on the interface",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16")),
            iface(state(B, "198.18.0.12:51820", Duration.ZERO, "10.102.0.0/16")),
            cidrs("10.102.0.0/16"), cidrs("10.102.0.0/16"), Map.of(),
            List.of(new UpdatePeer(peer(B, "198.18.0.12", "10.102.0.0/16"), Set.of(PeerField.KEEPALIVE)))),
        arguments("endpoint differs and nothing was configured yet: set it",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16")),
            iface(state(B, "203.0.113.7:40000", KA, "10.102.0.0/16")),
            cidrs("10.102.0.0/16"), cidrs("10.102.0.0/16"), Map.of(),
            List.of(new UpdatePeer(peer(B, "198.18.0.12", "10.102.0.0/16"), Set.of(PeerField.ENDPOINT)))),
        arguments("endpoint roamed away from what we configured: leave it",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16")),
            iface(state(B, "203.0.113.7:40000", KA, "10.102.0.0/16")),
            cidrs("10.102.0.0/16"), cidrs("10.102.0.0/16"), Map.of(B, ep("198.18.0.12", 51820)),
            List.of()),
        arguments("peer announced a new endpoint after roaming: set it",
            List.of(peer(B, "198.18.0.99", "10.102.0.0/16")),
            iface(state(B, "203.0.113.7:40000", KA, "10.102.0.0/16")),
            cidrs("10.102.0.0/16"), cidrs("10.102.0.0/16"), Map.of(B, ep("198.18.0.12", 51820)),
            List.of(new UpdatePeer(peer(B, "198.18.0.99", "10.102.0.0/16"), Set.of(PeerField.ENDPOINT)))),
        arguments("desired peer without endpoint never changes the learned one",
            List.of(peer(B, null, "10.102.0.0/16")),
            iface(state(B, "203.0.113.7:40000", KA, "10.102.0.0/16")),
            cidrs("10.102.0.0/16"), cidrs("10.102.0.0/16"), Map.of(),
            List.of()),
        arguments("route deleted by hand: drift repair adds it back",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16")),
            iface(state(B, "198.18.0.12:51820", KA, "10.102.0.0/16")),
            cidrs("10.102.0.0/16"), List.of(), Map.of(),
            List.of(new AddRoute(Cidr.parse("10.102.0.0/16")))),
        arguments("a stray route added by hand is removed",
            List.of(), iface(), List.of(), cidrs("10.66.0.0/16"), Map.of(),
            List.of(new RemoveRoute(Cidr.parse("10.66.0.0/16")))),
        arguments("a CIDR moves from one peer to another, a third peer leaves",
            List.of(peer(B, "198.18.0.12", "10.102.0.0/16"),
                peer(C, "198.18.0.13", "10.103.0.0/16", "10.202.0.0/16")),
            iface(state(B, "198.18.0.12:51820", KA, "10.102.0.0/16", "10.202.0.0/16"),
                state(C, "198.18.0.13:51820", KA, "10.103.0.0/16"),
                state(D, "198.18.0.14:51820", KA, "10.104.0.0/16")),
            cidrs("10.102.0.0/16", "10.103.0.0/16", "10.202.0.0/16"),
            cidrs("10.102.0.0/16", "10.103.0.0/16", "10.104.0.0/16", "10.202.0.0/16"), Map.of(),
            List.of(new RemoveRoute(Cidr.parse("10.104.0.0/16")),
                new RemovePeer(D),
                new UpdatePeer(peer(B, "198.18.0.12", "10.102.0.0/16"), Set.of(PeerField.ALLOWED_IPS)),
                new UpdatePeer(peer(C, "198.18.0.13", "10.103.0.0/16", "10.202.0.0/16"),
                    Set.of(PeerField.ALLOWED_IPS)))),
        arguments("IPv6 allowed IPs and routes",
            List.of(peer(B, "198.18.0.12", "fd00:102::/64")),
            iface(state(B, "198.18.0.12:51820", KA, "fd00:102::/64")),
            cidrs("fd00:102::/64"), cidrs("fd00:102:0::/64"), Map.of(),
            List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void appliesOnlyTheDifference(
      String name,
      List<WgPeer> desiredPeers,
      WgInterfaceState actual,
      List<Cidr> desiredRoutes,
      List<Cidr> actualRoutes,
      Map<String, InetSocketAddress> configured,
      List<Change> expected) {
    assertEquals(
        expected, DataPlaneDiff.diff(desiredPeers, actual, desiredRoutes, actualRoutes, configured));
  }

  @Test
  void rejectsTwoDesiredPeersWithTheSameKey() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DataPlaneDiff.diff(
                List.of(peer(B, "198.18.0.12", "10.102.0.0/16"), peer(B, "198.18.0.13", "10.103.0.0/16")),
                iface(), List.of(), List.of()));
    assertEquals("desired peers: public key " + B + " is listed twice", e.getMessage());
  }

  @Test
  void rejectsTwoDesiredPeersClaimingTheSameNetwork() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DataPlaneDiff.diff(
                List.of(peer(B, "198.18.0.12", "10.102.0.0/16"), peer(C, "198.18.0.13", "10.102.0.0/16")),
                iface(), List.of(), List.of()));
    assertEquals(
        "desired peers: allowed-ip 10.102.0.0/16 is claimed by peers " + B + " and " + C,
        e.getMessage());
  }
}
