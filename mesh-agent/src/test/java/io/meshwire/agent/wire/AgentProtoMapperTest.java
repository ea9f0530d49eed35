package io.meshwire.agent.wire;

import static io.meshwire.agent.state.TestStates.key;
import static io.meshwire.agent.state.TestStates.peer;
import static io.meshwire.agent.state.TestStates.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The agent's edge to the wire and state-file types: what the hub sends is checked again, naming the field. */
class AgentProtoMapperTest {

  /** A record as the hub would send it (the hub fixture's shape). */
  private static ClusterRecord west() {
    return HubFixture.record("west", 2, 5).toBuilder().setRevision(17).build();
  }

  @Test
  void hubRecordBecomesAPeerRecord() {
    PeerRecord p = AgentProtoMapper.fromProto(west());

    assertEquals("west", p.clusterId());
    assertEquals(32, Base64.getDecoder().decode(p.wireguardPublicKey()).length);
    assertEquals(51820, p.wireguardListenPort());
    assertEquals(List.of(new HostPort("198.18.0.2", 51820)), p.gatewayEndpoints());
    assertEquals(List.of(Cidr.parse("10.2.0.0/16")), p.podCidrs());
    assertEquals(List.of(Cidr.parse("10.200.2.0/24")), p.serviceCidrs());
    assertEquals(Optional.of(new HostPort("10.2.0.1", 7444)), p.peerChannelAddress());
    assertEquals(Map.of("region", "test"), p.labels());
    assertEquals(5, p.generation());
    assertEquals(17, p.revision());
    assertEquals(0, p.probePort(), "not announced");
    assertEquals(51821, p.probePortOr(51820), "an older peer: its WireGuard port + 1");
    assertEquals(false, p.relayOnly());
  }

  @Test
  void probePortAndTheHubsRelayOnlyModeReachThePeerRecordAndTheStateFile() {
    ClusterRecord hub = west().toBuilder().setProbePort(40_000)
        .setPeeringMode(io.meshwire.proto.policy.v1.PeeringMode.PEERING_MODE_RELAY_ONLY).build();
    PeerRecord p = AgentProtoMapper.fromProto(hub);
    assertEquals(40_000, p.probePort());
    assertEquals(40_000, p.probePortOr(51820));
    assertTrue(p.relayOnly());
    assertEquals(p, AgentProtoMapper.fromProto(AgentProtoMapper.toProto(p)), "persisted and restored as is");

    PeerRecord direct = AgentProtoMapper.fromProto(west().toBuilder()
        .setPeeringMode(io.meshwire.proto.policy.v1.PeeringMode.PEERING_MODE_DIRECT).build());
    assertEquals(false, direct.relayOnly());
  }

  static Stream<Arguments> malformedRecords() {
    return Stream.of(
        Arguments.of("31-byte key", (UnaryOperator<ClusterRecord.Builder>) b ->
            b.setWireguardPublicKey(ByteString.copyFrom(new byte[31])),
            "record west: wireguard_public_key: must be 32 bytes, got 31"),
        Arguments.of("no key", (UnaryOperator<ClusterRecord.Builder>) b -> b.clearWireguardPublicKey(),
            "record west: wireguard_public_key: must be 32 bytes, got 0"),
        Arguments.of("bad pod CIDR", (UnaryOperator<ClusterRecord.Builder>) b -> b.addPodCidrs("10.3.0.0/33"),
            "record west: pod_cidrs[1]: \"10.3.0.0/33\""),
        Arguments.of("pod CIDR with host bits", (UnaryOperator<ClusterRecord.Builder>) b ->
            b.setPodCidrs(0, "10.2.0.1/16"), "record west: pod_cidrs[0]: \"10.2.0.1/16\": host bits set"),
        Arguments.of("bad service CIDR", (UnaryOperator<ClusterRecord.Builder>) b -> b.setServiceCidrs(0, "x"),
            "record west: service_cidrs[0]: "),
        Arguments.of("bad endpoint", (UnaryOperator<ClusterRecord.Builder>) b ->
            b.addGatewayEndpoints("198.18.0.2"), "record west: gateway_endpoints[1]: \"198.18.0.2\""),
        Arguments.of("endpoint port 0", (UnaryOperator<ClusterRecord.Builder>) b ->
            b.setGatewayEndpoints(0, "198.18.0.2:0"), "record west: gateway_endpoints[0]: "),
        Arguments.of("bad peer channel", (UnaryOperator<ClusterRecord.Builder>) b ->
            b.setPeerChannelAddress("10.2.0.1"), "record west: peer_channel_address: "),
        Arguments.of("listen port 0", (UnaryOperator<ClusterRecord.Builder>) b -> b.setWireguardListenPort(0),
            "record west: wireguard_listen_port: 0 out of range 1..65535"),
        Arguments.of("listen port beyond 16 bits", (UnaryOperator<ClusterRecord.Builder>) b ->
            b.setWireguardListenPort(-1), "record west: wireguard_listen_port: 4294967295 out of range"),
        Arguments.of("empty cluster ID", (UnaryOperator<ClusterRecord.Builder>) b -> b.setClusterId(""),
            "record : cluster_id: \"\" is not a cluster ID"),
        Arguments.of("cluster ID not a DNS label", (UnaryOperator<ClusterRecord.Builder>) b ->
            b.setClusterId("West/1"), "record \"West/1\": cluster_id: \"West/1\" is not a cluster ID"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedRecords")
  void malformedHubRecordIsRejectedNamingTheField(String name, UnaryOperator<ClusterRecord.Builder> damage,
      String message) {
    ClusterRecord bad = damage.apply(west().toBuilder()).build();

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentProtoMapper.fromProto(bad));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }

  private static PeerView.Builder westSeesEast() {
    return PeerView.newBuilder().setObserverClusterId("west").setSubjectClusterId("east").setGeneration(3)
        .addMappings(CidrMapping.newBuilder().setOriginal("10.1.0.0/16").setSeenAs("100.64.0.0/16"));
  }

  @Test
  void hubViewBecomesAView() {
    View v = AgentProtoMapper.fromProto(westSeesEast().build());

    assertEquals(view("west", "east", "10.1.0.0/16", "100.64.0.0/16").mappings(), v.mappings());
    assertEquals(3, v.generation());
    assertEquals(Cidr.parse("100.64.0.0/16"), v.seenAs(Cidr.parse("10.1.0.0/16")));
    assertEquals(Cidr.parse("10.9.0.0/16"), v.seenAs(Cidr.parse("10.9.0.0/16")), "unmapped: seen as itself");
  }

  static Stream<Arguments> malformedViews() {
    return Stream.of(
        Arguments.of("bad original", (UnaryOperator<PeerView.Builder>) b ->
            b.addMappings(CidrMapping.newBuilder().setOriginal("10.1.0.0").setSeenAs("100.65.0.0/16")),
            "view west->east: mappings[1].original: \"10.1.0.0\""),
        Arguments.of("bad seen_as", (UnaryOperator<PeerView.Builder>) b ->
            b.setMappings(0, CidrMapping.newBuilder().setOriginal("10.1.0.0/16").setSeenAs("100.64.0.0/99")),
            "view west->east: mappings[0].seen_as: \"100.64.0.0/99\""),
        Arguments.of("no subject", (UnaryOperator<PeerView.Builder>) b -> b.setSubjectClusterId(""),
            "view west->: subject_cluster_id: \"\" is not a cluster ID"),
        Arguments.of("no observer", (UnaryOperator<PeerView.Builder>) b -> b.setObserverClusterId(""),
            "view ->east: observer_cluster_id: \"\" is not a cluster ID"));
  }

  @Test
  void aSeenAsOfAnotherSizeIsRefusedLikeTheHubRefusesIt() {
    // The hub's validator refuses it on the write path and at recovery; the agent applies the same one.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentProtoMapper.fromProto(
        westSeesEast().setMappings(0, CidrMapping.newBuilder().setOriginal("10.1.0.0/16").setSeenAs("100.64.0.0/24"))
            .build()));
    assertTrue(e.getMessage().startsWith("view west->east: mappings[0].seen_as: \"100.64.0.0/24\" must have the family "
        + "and prefix length of \"10.1.0.0/16\""), e.getMessage());
  }

  @Test
  void aCatchAllOrSpecialRangeFromTheHubIsRefusedLikeTheHubRefusesIt() {
    for (String cidr : List.of("0.0.0.0/0", "::/0", "128.0.0.0/1", "127.0.0.0/8", "::ffff:10.0.0.0/112",
        "169.254.0.0/16", "fe80::/64")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> AgentProtoMapper.fromProto(west().toBuilder().setPodCidrs(0, cidr).build()), cidr);
      assertTrue(e.getMessage().startsWith("record west: pod_cidrs[0]: "), e.getMessage());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedViews")
  void malformedHubViewIsRejectedNamingTheField(String name, UnaryOperator<PeerView.Builder> damage,
      String message) {
    PeerView bad = damage.apply(westSeesEast()).build();

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentProtoMapper.fromProto(bad));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }

  @Test
  void peerRecordRoundTripsWithIpv6AndNames() {
    PeerRecord p = new PeerRecord("north", key(3), 51999,
        List.of(new HostPort("fd00::3", 51820), new HostPort("gw.north.example", 51821)),
        List.of(Cidr.parse("10.3.0.0/16"), Cidr.parse("fd00:3::/64")), List.of(), Optional.empty(), Map.of(), 4, 9);

    assertEquals(p, AgentProtoMapper.fromProto(AgentProtoMapper.toProto(p)));
    assertEquals(List.of("[fd00::3]:51820", "gw.north.example:51821"),
        AgentProtoMapper.toProto(p).getGatewayEndpointsList());
  }

  @Test
  void agentStateRoundTripsWithEveryField() {
    AgentState s = new AgentState("mesh-uid-1", 42, 9, key(0x77),
        TestStates.byId(peer("west", 2, 7, 40), peer("north", 3, 2, 41)),
        Map.of("west", view("west", "east", "10.1.0.0/16", "100.64.0.0/16")),
        Map.of("north", view("east", "north", "10.3.0.0/16", "100.65.0.0/16")),
        Instant.parse("2025-06-01T12:00:00.123456789Z"));

    var proto = AgentProtoMapper.toProto(s);

    assertEquals(s, AgentProtoMapper.fromProto(proto));
    assertEquals(key(0x77), proto.getWireguardPrivateKey());
    assertEquals(2, proto.getPeersCount());
  }

  @Test
  void emptyStateRoundTrips() {
    AgentState s = AgentState.initial(key(0x77));

    assertEquals(s, AgentProtoMapper.fromProto(AgentProtoMapper.toProto(s)));
  }

  @Test
  void timestampsKeepNanoseconds() {
    Instant t = Instant.parse("2025-06-01T12:00:00.000000001Z");

    assertEquals(t, AgentProtoMapper.instant(AgentProtoMapper.timestamp(t)));
  }
}
