package io.meshwire.relay;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import io.meshwire.relay.client.HomeRelay;
import io.meshwire.relay.client.RelayBridge;
import io.meshwire.relay.server.RelayConfig;
import io.meshwire.relay.server.RelayServer;
import io.meshwire.relay.server.RevocationCheck;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two clusters' bridges over two relays, each cluster homed on a different one: what a's
 * "WireGuard" (a UDP socket) sends to its endpoint for b arrives at b's WireGuard from b's endpoint
 * for a, through b's home relay, and back through a's.
 */
class RelayBridgeTest {

  private final RelayTestPki pki = new RelayTestPki();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  private record Relay(RelayServer server, SimpleMeterRegistry meters, HostPort address) {
    double forwarded() {
      return meters.find("meshwire.relay.forwarded.datagrams").counter().count();
    }
  }

  private Relay relay(String name) {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    RelayServer server = RelayServer.start(RelayConfig.defaults(new HostPort("127.0.0.1", 0)),
        RelayTls.server(pki.relay(name), InstantSource.system()), RevocationCheck.NONE, meters);
    closing.add(server);
    return new Relay(server, meters, new HostPort("127.0.0.1", server.port()));
  }

  private DatagramSocket wireGuard() throws Exception {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    s.setSoTimeout(5_000);
    closing.add(s);
    return s;
  }

  private RelayBridge bridge(String self, DatagramSocket wg, List<HostPort> relays) {
    return bridge(self, wg, relays, Duration.ofMinutes(5));
  }

  private RelayBridge bridge(String self, DatagramSocket wg, List<HostPort> relays, Duration idleClose) {
    RelayBridge b = new RelayBridge(self, RelayTls.client(pki.cluster(self), InstantSource.system()),
        (InetSocketAddress) wg.getLocalSocketAddress(), 1 << 20, Duration.ofSeconds(1), idleClose);
    closing.add(b);
    b.relays(relays);
    return b;
  }

  private static String receive(DatagramSocket s, InetSocketAddress expectedFrom) throws Exception {
    DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
    s.receive(p);
    assertEquals(expectedFrom, p.getSocketAddress(), "datagram not from the bridge endpoint");
    return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
  }

  private static void send(DatagramSocket s, InetSocketAddress to, String text) throws Exception {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    s.send(new DatagramPacket(b, b.length, to));
  }

  /** Two relays and two clusters a, b homed on different ones (rendezvous hashing over their addresses). */
  private record Homed(Relay r1, Relay r2, List<HostPort> relays, String a, String b) {
    Relay homeOf(String cluster) {
      return HomeRelay.of(cluster, relays).orElseThrow().equals(r1.address()) ? r1 : r2;
    }
  }

  private Homed twoRelaysAndAPairHomedApart() {
    Relay r1 = relay("relay-1");
    Relay r2 = relay("relay-2");
    List<HostPort> relays = List.of(r1.address(), r2.address());
    for (int i = 1; i < 100; i++) {
      String b = "c" + i;
      if (!HomeRelay.of(b, relays).equals(HomeRelay.of("c0", relays))) {
        return new Homed(r1, r2, relays, "c0", b);
      }
    }
    throw new AssertionError("no two of 100 names homed apart");
  }

  @Test
  void pairHomedOnDifferentRelaysReachEachOtherThroughThePeersHome() throws Exception {
    Homed h = twoRelaysAndAPairHomedApart();
    List<HostPort> relays = h.relays();
    String a = h.a();
    String b = h.b();
    assertNotEquals(h.homeOf(a), h.homeOf(b));

    DatagramSocket wgA = wireGuard();
    DatagramSocket wgB = wireGuard();
    RelayBridge bridgeA = bridge(a, wgA, relays);
    RelayBridge bridgeB = bridge(b, wgB, relays);
    InetSocketAddress aSeesB = bridgeA.open(b);
    InetSocketAddress bSeesA = bridgeB.open(a);
    String fa = a;
    String fb = b;
    await().atMost(Duration.ofSeconds(10)).until(() -> bridgeA.canReach(fb) && bridgeB.canReach(fa)
        && h.r1().server().connectedClusters().size() + h.r2().server().connectedClusters().size() == 4);

    send(wgA, aSeesB, "a->b");
    assertEquals("a->b", receive(wgB, bSeesA));
    send(wgB, bSeesA, "b->a");
    assertEquals("b->a", receive(wgA, aSeesB));

    assertEquals(1, h.homeOf(b).forwarded(), "a->b goes through b's home relay");
    assertEquals(1, h.homeOf(a).forwarded(), "b->a goes through a's home relay");
    assertTrue(bridgeA.stats().homeConnected());
  }

  @Test
  void datagramsFromAPeerWithoutABridgeSocketAreDroppedAndCounted() throws Exception {
    Relay r = relay("relay-1");
    DatagramSocket wgA = wireGuard();
    DatagramSocket wgB = wireGuard();
    RelayBridge bridgeA = bridge("a", wgA, List.of(r.address()));
    RelayBridge bridgeB = bridge("b", wgB, List.of(r.address()));
    InetSocketAddress aSeesB = bridgeA.open("b");
    await().atMost(Duration.ofSeconds(10)).until(() -> r.server().connectedClusters().size() == 2);

    send(wgA, aSeesB, "unexpected");
    await().atMost(Duration.ofSeconds(5)).until(() -> bridgeB.stats().droppedNoSocket() == 1);
  }

  @Test
  void anAcceptedPeerRelayingToUsOpensItsSocketSoItsNextDatagramReachesWireGuard() throws Exception {
    Relay r = relay("relay-1");
    DatagramSocket wgA = wireGuard();
    DatagramSocket wgB = wireGuard();
    RelayBridge bridgeA = bridge("a", wgA, List.of(r.address()));
    RelayBridge bridgeB = bridge("b", wgB, List.of(r.address()));
    bridgeB.acceptFrom(peer -> peer.equals("a"));
    InetSocketAddress aSeesB = bridgeA.open("b");
    await().atMost(Duration.ofSeconds(10)).until(() -> r.server().connectedClusters().size() == 2);

    send(wgA, aSeesB, "first");
    await().atMost(Duration.ofSeconds(5)).until(() -> bridgeB.socket("a").isPresent());
    assertEquals(1, bridgeB.stats().droppedNoSocket(), "the datagram that opened the socket is dropped");
    send(wgA, aSeesB, "second");
    assertEquals("second", receive(wgB, bridgeB.socket("a").orElseThrow()));
  }

  @Test
  void anIdleConnectionToAPeersHomeRelayIsClosedButOneCarryingARelayedLinkAndTheOwnHomeStay() throws Exception {
    Homed h = twoRelaysAndAPairHomedApart();
    String a = h.a();
    String b = h.b();
    Relay homeOfB = h.homeOf(b);
    RelayBridge bridgeA = bridge(a, wireGuard(), h.relays(), Duration.ofMillis(300));

    bridgeA.connectTo(b); // a direct link to b looked unhealthy for a moment, then recovered
    await().atMost(Duration.ofSeconds(10)).until(() -> bridgeA.canReach(b));
    await().atMost(Duration.ofSeconds(5)).until(() -> !bridgeA.canReach(b));
    assertEquals(1, bridgeA.closedIdle());
    await().atMost(Duration.ofSeconds(5)).until(() -> !homeOfB.server().connectedClusters().contains(a));
    assertTrue(bridgeA.stats().homeConnected(), "the own home relay stays connected");

    bridgeA.open(b); // now relayed: its home relay connection stays however quiet the link is
    await().atMost(Duration.ofSeconds(10)).until(() -> bridgeA.canReach(b));
    // Three idle periods without a datagram: the connection stays all along.
    await().during(Duration.ofMillis(900)).atMost(Duration.ofSeconds(5)).until(() -> bridgeA.canReach(b));
    assertEquals(1, bridgeA.closedIdle());
  }
}
