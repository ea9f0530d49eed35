package io.meshwire.agent.wireguard;

import static io.meshwire.agent.wireguard.TestKeys.key;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.wireguard.Change.AddPeer;
import io.meshwire.agent.wireguard.Change.AddRoute;
import io.meshwire.agent.wireguard.Change.PeerField;
import io.meshwire.agent.wireguard.Change.UpdatePeer;
import io.meshwire.netaddr.Cidr;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The endpoint memory of {@link DataPlane}, against in-memory drivers (the real ones need root). */
class DataPlaneTest {
  private static final String IF = "wg0";
  private static final String B = key(0x0b);
  private static final Cidr POD_B = Cidr.parse("10.102.0.0/16");
  private static final Cidr MORE_B = Cidr.parse("10.202.0.0/16");

  private static InetSocketAddress ep(String address, int port) {
    return new InetSocketAddress(Cidr.parseAddress(address), port);
  }

  private static WireGuardPlan plan(InetSocketAddress endpoint, Cidr... allowed) {
    return WireGuardPlan.routingAllowedIps(IF, List.of(WgPeer.of(B, endpoint, List.of(allowed))));
  }

  private final MemoryWireGuard wireGuard = MemoryWireGuard.existing();
  private final MemoryRoutes routes = new MemoryRoutes();
  private final DataPlane dataPlane = new DataPlane(wireGuard, routes);

  @Test
  void aRoamedEndpointSurvivesLaterPassesAndAllowedIpChanges() {
    WireGuardPlan first = plan(ep("198.18.0.12", 51820), POD_B);
    assertEquals(List.of(new AddPeer(first.peers().get(0)), new AddRoute(POD_B)), dataPlane.apply(first));

    wireGuard.roam(B, ep("203.0.113.7", 40000));
    assertEquals(List.of(), dataPlane.apply(first), "the roamed endpoint is left alone");

    WireGuardPlan grown = plan(ep("198.18.0.12", 51820), POD_B, MORE_B);
    assertEquals(
        List.of(new UpdatePeer(grown.peers().get(0), Set.of(PeerField.ALLOWED_IPS)), new AddRoute(MORE_B)),
        dataPlane.apply(grown));
    assertEquals(Optional.empty(), wireGuard.sets.getLast().endpoint(), "endpoint not rewritten");
    assertEquals(Optional.of(ep("203.0.113.7", 40000)), wireGuard.show(IF).peer(B).orElseThrow().endpoint());
  }

  @Test
  void aNewlyAnnouncedEndpointReplacesARoamedOne() {
    dataPlane.apply(plan(ep("198.18.0.12", 51820), POD_B));
    wireGuard.roam(B, ep("203.0.113.7", 40000));

    WireGuardPlan moved = plan(ep("198.18.0.99", 51820), POD_B);
    assertEquals(List.of(new UpdatePeer(moved.peers().get(0), Set.of(PeerField.ENDPOINT))),
        dataPlane.apply(moved));
    assertEquals(Optional.of(ep("198.18.0.99", 51820)), wireGuard.show(IF).peer(B).orElseThrow().endpoint());
    assertEquals(List.of(), dataPlane.apply(moved));
  }

  @Test
  void withoutMemoryARoamedEndpointIsResetOnce() {
    dataPlane.apply(plan(ep("198.18.0.12", 51820), POD_B));
    wireGuard.roam(B, ep("203.0.113.7", 40000));

    DataPlane restarted = new DataPlane(wireGuard, routes); // a new agent process
    WireGuardPlan same = plan(ep("198.18.0.12", 51820), POD_B);
    assertEquals(List.of(new UpdatePeer(same.peers().get(0), Set.of(PeerField.ENDPOINT))), restarted.apply(same));
    wireGuard.roam(B, ep("203.0.113.7", 40000));
    assertEquals(List.of(), restarted.apply(same));
  }
}
