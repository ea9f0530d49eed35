package io.meshwire.agent.reconcile;

import static io.meshwire.agent.state.TestStates.key;
import static io.meshwire.agent.state.TestStates.view;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.agent.wireguard.WgPeer;
import io.meshwire.agent.wireguard.WireGuardPlan;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The desired data plane computed from the state: one table of cases, plus the whole-plan shape. */
class PlannerTest {

  private static final String IF = "mw0";
  private static final Duration KEEPALIVE = Duration.ofSeconds(25);

  /** Literals as themselves, one name that resolves, every other name unknown: no DNS in a unit test. */
  private static final EndpointResolver RESOLVER = host -> {
    if (host.equals("gw.west.example")) {
      return Cidr.parseAddress("198.18.5.2");
    }
    try {
      return Cidr.parseAddress(host);
    } catch (IllegalArgumentException notALiteral) {
      throw new java.net.UnknownHostException(host);
    }
  };

  private static List<Cidr> cidrs(String... texts) {
    return Arrays.stream(texts).map(Cidr::parse).toList();
  }

  private static Optional<InetSocketAddress> endpoint(String ip, int port) {
    return Optional.of(new InetSocketAddress(Cidr.parseAddress(ip), port));
  }

  private static PeerRecord record(String id, int n, List<HostPort> endpoints, String... podCidrs) {
    PeerRecord base = TestStates.peer(id, n);
    return new PeerRecord(id, base.wireguardPublicKey(), 51820, endpoints, cidrs(podCidrs), base.serviceCidrs(),
        base.peerChannelAddress(), base.labels(), 1, 1);
  }

  private static AgentState state(List<PeerRecord> peers, Map<String, View> myViews) {
    return TestStates.state("m", 1, peers.toArray(PeerRecord[]::new)).withMyViews(myViews);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("numeric endpoint, pod CIDR as itself",
            record("west", 2, List.of(new HostPort("198.18.0.2", 51820)), "10.2.0.0/16"), Map.of(),
            endpoint("198.18.0.2", 51820), cidrs("10.2.0.0/16")),
        Arguments.of("pod CIDR seen through my view",
            record("west", 2, List.of(new HostPort("198.18.0.2", 51820)), "10.2.0.0/16"),
            Map.of("west", view("east", "west", "10.2.0.0/16", "100.64.0.0/16")),
            endpoint("198.18.0.2", 51820), cidrs("100.64.0.0/16")),
        Arguments.of("only the remapped one of two pod CIDRs changes",
            record("west", 2, List.of(new HostPort("198.18.0.2", 51820)), "10.2.0.0/16", "10.12.0.0/16"),
            Map.of("west", view("east", "west", "10.12.0.0/16", "100.64.0.0/16")),
            endpoint("198.18.0.2", 51820), cidrs("10.2.0.0/16", "100.64.0.0/16")),
        Arguments.of("a view of another peer does not apply",
            record("west", 2, List.of(new HostPort("198.18.0.2", 51820)), "10.2.0.0/16"),
            Map.of("north", view("east", "north", "10.2.0.0/16", "100.64.0.0/16")),
            endpoint("198.18.0.2", 51820), cidrs("10.2.0.0/16")),
        Arguments.of("IPv6 endpoint and pod CIDR",
            record("west", 2, List.of(new HostPort("fd00::2", 51821)), "fd00:2::/64"), Map.of(),
            endpoint("fd00::2", 51821), cidrs("fd00:2::/64")),
        Arguments.of("first endpoint is used",
            record("west", 2, List.of(new HostPort("198.18.0.2", 51820), new HostPort("198.18.1.2", 51820)),
                "10.2.0.0/16"), Map.of(),
            endpoint("198.18.0.2", 51820), cidrs("10.2.0.0/16")),
        Arguments.of("a name is resolved through the resolver",
            record("west", 2, List.of(new HostPort("gw.west.example", 51820)), "10.2.0.0/16"), Map.of(),
            endpoint("198.18.5.2", 51820), cidrs("10.2.0.0/16")),
        Arguments.of("unresolvable name is skipped for the next endpoint",
            record("west", 2, List.of(new HostPort("gw.west.invalid", 51820), new HostPort("198.18.1.2", 51822)),
                "10.2.0.0/16"), Map.of(),
            endpoint("198.18.1.2", 51822), cidrs("10.2.0.0/16")),
        Arguments.of("no resolvable endpoint: none, the peer dials us",
            record("west", 2, List.of(new HostPort("gw.west.invalid", 51820), new HostPort("gw2.west.invalid", 51820)),
                "10.2.0.0/16"), Map.of(),
            Optional.empty(), cidrs("10.2.0.0/16")),
        Arguments.of("no endpoints at all",
            record("west", 2, List.of(), "10.2.0.0/16"), Map.of(),
            Optional.empty(), cidrs("10.2.0.0/16")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void plansOneWireGuardPeerPerCluster(String name, PeerRecord peer, Map<String, View> myViews,
      Optional<InetSocketAddress> endpoint, List<Cidr> allowedIps) {
    WireGuardPlan plan = Planner.plan(IF, state(List.of(peer), myViews), RESOLVER);

    assertEquals(List.of(new WgPeer(peer.wireguardPublicKey(), endpoint, allowedIps, KEEPALIVE)), plan.peers());
    assertEquals(allowedIps.stream().sorted().toList(), plan.routes(), "a route per allowed IP");
    assertEquals(IF, plan.ifName());
  }

  @Test
  void everyPeerGetsTheMeshKeepaliveAndRoutesCoverEveryAllowedIp() {
    AgentState s = state(List.of(TestStates.peer("west", 2), TestStates.peer("north", 3), TestStates.peer("south", 4)),
        Map.of("south", view("east", "south", "10.4.0.0/16", "100.64.0.0/16")));

    WireGuardPlan plan = Planner.plan(IF, s, RESOLVER);

    assertEquals(List.of(key(3), key(4), key(2)), plan.peers().stream().map(WgPeer::publicKey).toList(),
        "in cluster ID order: north, south, west");
    plan.peers().forEach(p -> assertEquals(KEEPALIVE, p.persistentKeepalive()));
    assertEquals(cidrs("10.2.0.0/16", "10.3.0.0/16", "100.64.0.0/16"), plan.routes());
  }

  @Test
  void anExcludedPeerStaysAWireGuardPeerWithoutAllowedIpsOrRoutes() {
    AgentState s = state(List.of(TestStates.peer("west", 2), TestStates.peer("north", 3)), Map.of());

    WireGuardPlan plan = Planner.plan(IF, s, java.util.Set.of("west"), RESOLVER);

    assertEquals(List.of(key(3), key(2)), plan.peers().stream().map(WgPeer::publicKey).toList());
    assertEquals(List.of(), plan.peers().get(1).allowedIps(), "west: no pool had room for it");
    assertEquals(cidrs("10.3.0.0/16"), plan.routes());
  }

  @Test
  void serviceCidrsAreNotRouted() {
    WireGuardPlan plan = Planner.plan(IF, state(List.of(TestStates.peer("west", 2)), Map.of()), RESOLVER);

    assertEquals(cidrs("10.2.0.0/16"), plan.peers().getFirst().allowedIps());
  }

  @Test
  void noPeersPlansAnEmptyInterface() {
    WireGuardPlan plan = Planner.plan(IF, AgentState.initial(key(0x77)), RESOLVER);

    assertEquals(List.of(), plan.peers());
    assertEquals(List.of(), plan.routes());
  }

  private static final InetSocketAddress BRIDGE = new InetSocketAddress(Cidr.parseAddress("127.0.0.1"), 40123);

  static Stream<Arguments> overrides() {
    List<HostPort> gateway = List.of(new HostPort("198.18.0.2", 51820));
    List<HostPort> unresolvable = List.of(new HostPort("gw.west.invalid", 51820));
    return Stream.of(
        Arguments.of("no override: the peer's gateway (direct)", gateway, Map.of(), endpoint("198.18.0.2", 51820)),
        Arguments.of("relayed: the local bridge socket replaces the gateway", gateway, Map.of("west", BRIDGE),
            Optional.of(BRIDGE)),
        Arguments.of("relayed without any resolvable gateway: still the bridge", unresolvable,
            Map.of("west", BRIDGE), Optional.of(BRIDGE)),
        Arguments.of("an override for another cluster does not apply", gateway, Map.of("north", BRIDGE),
            endpoint("198.18.0.2", 51820)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("overrides")
  void aRelayedPeersEndpointIsTheBridgeSocketAndOnlyItsEndpointChanges(String name, List<HostPort> gateways,
      Map<String, InetSocketAddress> overrides, Optional<InetSocketAddress> expected) {
    PeerRecord peer = record("west", 2, gateways, "10.2.0.0/16");

    WireGuardPlan plan = Planner.plan(IF, state(List.of(peer), Map.of()), java.util.Set.of(), KEEPALIVE, overrides,
        RESOLVER);

    assertEquals(List.of(new WgPeer(peer.wireguardPublicKey(), expected, cidrs("10.2.0.0/16"), KEEPALIVE)),
        plan.peers(), "allowed IPs and keepalive are those of the direct plan");
    assertEquals(cidrs("10.2.0.0/16"), plan.routes(), "routes do not depend on the path");
  }

  @Test
  void aRelayOnlyPeerHasNoDirectEndpointOnlyItsBridgeSocket() {
    PeerRecord p = TestStates.peer("west", 2);
    PeerRecord relayOnly = new PeerRecord(p.clusterId(), p.wireguardPublicKey(), p.wireguardListenPort(),
        p.gatewayEndpoints(), p.podCidrs(), p.serviceCidrs(), p.peerChannelAddress(), p.labels(), 1, 1, 0, true);
    AgentState s = state(List.of(relayOnly), Map.of());

    assertEquals(Optional.empty(), Planner.plan(IF, s, java.util.Set.of(), KEEPALIVE, Map.of(), RESOLVER)
        .peers().getFirst().endpoint(), "WireGuard must not try the direct path");
    assertEquals(Optional.of(BRIDGE), Planner.plan(IF, s, java.util.Set.of(), KEEPALIVE, Map.of("west", BRIDGE),
        RESOLVER).peers().getFirst().endpoint());
  }

  @Test
  void droppingTheOverrideGoesBackToTheGatewayEndpoint() {
    AgentState s = state(List.of(TestStates.peer("west", 2), TestStates.peer("north", 3)), Map.of());

    WireGuardPlan relayed = Planner.plan(IF, s, java.util.Set.of(), KEEPALIVE, Map.of("west", BRIDGE), RESOLVER);
    WireGuardPlan direct = Planner.plan(IF, s, java.util.Set.of(), KEEPALIVE, Map.of(), RESOLVER);

    assertEquals(Optional.of(BRIDGE), relayed.peers().get(1).endpoint());
    assertEquals(direct.peers().get(0), relayed.peers().get(0), "north is untouched");
    assertEquals(Planner.plan(IF, s, RESOLVER), direct, "no override: the plan as before relays");
  }
}
