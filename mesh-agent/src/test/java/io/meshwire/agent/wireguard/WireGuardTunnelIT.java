package io.meshwire.agent.wireguard;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.agent.exec.NamespacedCommandRunner;
import io.meshwire.agent.exec.ProcessCommandRunner;
import io.meshwire.netaddr.Cidr;
import io.meshwire.agent.wireguard.Change.AddPeer;
import io.meshwire.agent.wireguard.Change.AddRoute;
import io.meshwire.agent.wireguard.Change.RemovePeer;
import io.meshwire.agent.wireguard.Change.RemoveRoute;
import io.meshwire.netlab.netns.ClusterNet;
import io.meshwire.testsupport.netns.NetworkNamespacesExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two clusters in network namespaces, linked by wireguard-go through the real driver: pod traffic
 * flows, the plan is idempotent, removal cuts the tunnel, and drift is repaired. Needs root,
 * wireguard-go and wg; skips without them unless {@code MESHWIRE_E2E_REQUIRED=1}.
 */
class WireGuardTunnelIT {
  private static final Logger log = LoggerFactory.getLogger(WireGuardTunnelIT.class);
  private static final int PORT = 51820;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @RegisterExtension static final NetworkNamespacesExtension NET = new NetworkNamespacesExtension();

  private static ClusterNet a;
  private static ClusterNet b;

  /** One cluster's gateway as the agent would see it. */
  private record Gateway(
      ClusterNet net, CommandRunner runner, WgToolsWireGuard wireGuard, IpRoutes routes,
      DataPlane dataPlane, String privateKey, String publicKey, Cidr address) {

    static Gateway start(ClusterNet net, String address) {
      CommandRunner runner = new NamespacedCommandRunner(new ProcessCommandRunner(), net.gateway());
      String privateKey = runner.run(List.of("wg", "genkey"), TIMEOUT).stdout().strip();
      String publicKey =
          runner.run(List.of("wg", "pubkey"), (privateKey + "\n").getBytes(StandardCharsets.US_ASCII),
              TIMEOUT).stdout().strip();
      WgToolsWireGuard wireGuard = new WgToolsWireGuard(runner);
      IpRoutes routes = new IpRoutes(runner);
      return new Gateway(net, runner, wireGuard, routes, new DataPlane(wireGuard, routes),
          privateKey, publicKey, Cidr.parse(address));
    }

    String ifName() {
      return net.wireGuardInterface();
    }

    void ensureInterface() {
      wireGuard.ensureInterface(ifName(), PORT, privateKey, Optional.of(address));
    }

    /** The plan that makes {@code other} this gateway's peer, routing its pod CIDR. */
    WireGuardPlan planTo(Gateway other) {
      WgPeer peer = WgPeer.of(other.publicKey,
          new InetSocketAddress(Cidr.parseAddress(other.net.publicAddress()), PORT),
          List.of(Cidr.parse(other.net.podCidr())));
      return WireGuardPlan.routingAllowedIps(ifName(), List.of(peer));
    }
  }

  private Gateway gwA;
  private Gateway gwB;

  @BeforeAll
  static void clusters() {
    a = NET.addCluster("a", "10.101.0.0/16");
    b = NET.addCluster("b", "10.102.0.0/16");
  }

  @BeforeEach
  void linkTheGateways() {
    gwA = Gateway.start(a, "100.64.0.1/32");
    gwB = Gateway.start(b, "100.64.0.2/32");
    gwA.ensureInterface();
    gwB.ensureInterface();
    assertEquals(
        List.of(new AddPeer(gwA.planTo(gwB).peers().get(0)), new AddRoute(Cidr.parse(b.podCidr()))),
        gwA.dataPlane().apply(gwA.planTo(gwB)));
    gwB.dataPlane().apply(gwB.planTo(gwA));
  }

  @AfterEach
  void deleteTheInterfaces() {
    // Runs after a failed setup too; the fixture stops whatever is left in the namespaces.
    try {
      if (gwA != null) {
        gwA.wireGuard().close();
      }
    } finally {
      if (gwB != null) {
        gwB.wireGuard().close();
      }
    }
    assertFalse(NET.exec(a.gateway(), "ip", "link", "show", "dev", a.wireGuardInterface()).ok(),
        "interface deleted with its wireguard-go");
  }

  @Test
  void podsReachEachOtherThroughTheTunnelAndASecondApplyChangesNothing() throws Exception {
    long started = System.nanoTime();
    // The first packet waits in wireguard-go for the handshake.
    assertTrue(NET.ping(a.workload(), b.workloadAddress(), 1), "first ping a -> b");
    long firstReplyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    log.info("tunnel first reply incl. handshake ms={}", firstReplyMillis);

    assertTrue(NET.ping(a.workload(), b.workloadAddress(), 3), "ping -c 3 -W 1 a -> b");
    assertTrue(NET.ping(b.workload(), a.workloadAddress(), 3), "ping -c 3 -W 1 b -> a");

    for (Gateway[] pair : new Gateway[][] {{gwA, gwB}, {gwB, gwA}}) {
      WgPeerState peer = pair[0].wireGuard().show(pair[0].ifName()).peer(pair[1].publicKey()).orElseThrow();
      assertTrue(peer.latestHandshake().isPresent(), pair[0].ifName() + " has a handshake");
      assertTrue(peer.rxBytes() > 0 && peer.txBytes() > 0, pair[0].ifName() + " rx/tx " + peer);
      assertEquals(LinkHealth.UP, LinkHealth.of(peer, Instant.now()));
      assertEquals(Optional.of(new InetSocketAddress(Cidr.parseAddress(pair[1].net().publicAddress()), PORT)),
          peer.endpoint());
    }
    WgInterfaceState state = gwA.wireGuard().show(gwA.ifName());
    assertEquals(gwA.publicKey(), state.publicKey());
    assertEquals(PORT, state.listenPort());
    assertTrue(NET.exec(a.gateway(), "ip", "-o", "address", "show", "dev", gwA.ifName()).orThrow()
        .stdout().contains("inet 100.64.0.1/32"));

    gwA.ensureInterface(); // idempotent: nothing to change, nothing restarted
    assertEquals(List.of(), gwA.dataPlane().pending(gwA.planTo(gwB)));
    assertEquals(List.of(), gwA.dataPlane().apply(gwA.planTo(gwB)));
    assertEquals(List.of(), gwB.dataPlane().apply(gwB.planTo(gwA)));
    assertEquals(List.of(Cidr.parse(b.podCidr())), gwA.routes().routesVia(gwA.ifName()));
  }

  @Test
  void removingThePeerAndItsRouteCutsTheTunnel() {
    assertTrue(NET.ping(a.workload(), b.workloadAddress(), 3), "tunnel up before removal");

    WireGuardPlan nothing = new WireGuardPlan(gwA.ifName(), List.of(), List.of());
    assertEquals(
        List.of(new RemoveRoute(Cidr.parse(b.podCidr())), new RemovePeer(gwB.publicKey())),
        gwA.dataPlane().apply(nothing));

    assertFalse(NET.ping(a.workload(), b.workloadAddress(), 2), "no route, no peer: no reply");
    assertEquals(List.of(), gwA.wireGuard().show(gwA.ifName()).peers());
    assertEquals(List.of(), gwA.routes().routesVia(gwA.ifName()));
    assertEquals(List.of(), gwA.dataPlane().apply(nothing));
  }

  @Test
  void driftRepairRestoresARouteDeletedByHand() {
    assertTrue(NET.ping(a.workload(), b.workloadAddress(), 3), "tunnel up before drift");

    NET.exec(a.gateway(), "ip", "route", "del", b.podCidr(), "dev", gwA.ifName()).orThrow();
    assertFalse(NET.ping(a.workload(), b.workloadAddress(), 1), "route gone, traffic stops");

    assertEquals(List.of(new AddRoute(Cidr.parse(b.podCidr()))), gwA.dataPlane().pending(gwA.planTo(gwB)));
    assertEquals(List.of(new AddRoute(Cidr.parse(b.podCidr()))), gwA.dataPlane().apply(gwA.planTo(gwB)));
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
        .until(() -> NET.ping(a.workload(), b.workloadAddress(), 1));
    assertTrue(NET.ping(a.workload(), b.workloadAddress(), 3), "ping -c 3 -W 1 after repair");
  }
}
