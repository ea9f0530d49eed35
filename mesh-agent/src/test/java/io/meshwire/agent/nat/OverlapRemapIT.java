package io.meshwire.agent.nat;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.agent.exec.NamespacedCommandRunner;
import io.meshwire.agent.exec.ProcessCommandRunner;
import io.meshwire.agent.ipam.IpamSettings;
import io.meshwire.agent.ipam.ViewChecks;
import io.meshwire.agent.ipam.ViewDecisions;
import io.meshwire.agent.reconcile.Reconciler;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.View;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.agent.wireguard.DataPlane;
import io.meshwire.agent.wireguard.IpRoutes;
import io.meshwire.agent.wireguard.WgToolsWireGuard;
import io.meshwire.certs.WireGuardKeyPair;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.netlab.netns.ClusterNet;
import io.meshwire.testsupport.netns.NetworkNamespacesExtension;
import io.meshwire.testsupport.netns.Requirements;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two clusters that BOTH use pod CIDR 10.244.0.0/16, linked by wireguard-go, each side run by the
 * real pieces of the agent: its IPAM ({@link ViewDecisions}) decides how it sees the other, the
 * views are handed over as the hub would ({@link MeshSync#viewUpdated}, with the view check), and
 * one {@link Reconciler} pass per side configures WireGuard, routes and the NETMAP rules.
 *
 * <p>A remaps with pool 172.16.0.0/12 (A sees B as 172.16.0.0/16), B with the default pools (B
 * sees A as 10.0.0.0/16), so each direction shows a different translation. Needs root,
 * wireguard-go, wg, nft and socat; skips without them unless {@code MESHWIRE_E2E_REQUIRED=1}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OverlapRemapIT {

  private static final String PODS = "10.244.0.0/16";
  private static final int PORT = 51820;
  private static final int ECHO_PORT = 7000;

  @RegisterExtension static final NetworkNamespacesExtension NET = new NetworkNamespacesExtension();
  @TempDir static Path dir;

  /** One cluster's gateway, run by the agent's own components. */
  private record Side(String id, ClusterNet net, WgToolsWireGuard wireGuard, NftNat nat, MeshSync sync,
      Reconciler reconciler) {

    AgentState state() {
      return sync.state();
    }

    /** How this side sees {@code other}'s pods. */
    Cidr seenAs(Side other) {
      return state().myViews().get(other.id).seenAs(Cidr.parse(PODS));
    }

    /** {@code other}'s workload address as this side reaches it (the same host part in the remapped block). */
    String workloadOf(Side other) {
      return Cidr.format(new io.meshwire.netaddr.Translation(Cidr.parse(PODS), seenAs(other))
          .forward(Cidr.parseAddress(other.net.workloadAddress())));
    }
  }

  private static Side a;
  private static Side b;
  private static long revision = 100;

  private static PeerRecord record(String id, ClusterNet net, WireGuardKeyPair keys) {
    return new PeerRecord(id, keys.publicKeyBase64(), PORT, List.of(new HostPort(net.publicAddress(), PORT)),
        List.of(Cidr.parse(PODS)), List.of(), Optional.empty(), Map.of(), 1, 1);
  }

  private static Side side(String id, ClusterNet net, WireGuardKeyPair keys, PeerRecord peer, String tunnelAddress,
      List<Cidr> pools) {
    CommandRunner runner = new NamespacedCommandRunner(new ProcessCommandRunner(), net.gateway());
    WgToolsWireGuard wireGuard = new WgToolsWireGuard(runner);
    NftNat nat = new NftNat(runner);
    List<Cidr> own = List.of(Cidr.parse(PODS));
    AgentState initial = AgentState.initial(keys.privateKeyBase64()).withPeers(Map.of(peer.clusterId(), peer));
    MeshSync sync = new MeshSync(id, initial, new StateFile(dir.resolve(id + ".state"), InstantSource.system()), false,
        s -> {}, v -> ViewChecks.problemAsViewOfMe(v, own));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ViewDecisions decisions = new ViewDecisions(id, new IpamSettings(own, List.of(), List.of(), pools), sync,
        InstantSource.system(), meters, () -> {});
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    Reconciler reconciler = new Reconciler(
        new Reconciler.Interface(net.wireGuardInterface(), PORT, Optional.of(Cidr.parse(tunnelAddress))),
        wireGuard, new DataPlane(wireGuard, new IpRoutes(runner)),
        Optional.of(new Reconciler.Remapping(decisions, nat, own)), sync::state, executor, Duration.ofHours(1), meters,
        new io.meshwire.agent.reconcile.SystemResolver(meters));
    return new Side(id, net, wireGuard, nat, sync, reconciler);
  }

  /** What the hub does with a published view: deliver it to its subject only. */
  private static void deliver(Side observer, Side subject) {
    View view = observer.state().myViews().get(subject.id);
    subject.sync.viewUpdated(++revision, view);
  }

  @BeforeAll
  static void twoClustersOnOnePodCidr() {
    Requirements.check().andTools(Map.of("nft", "nftables", "socat", "socat")).enforce();
    ClusterNet netA = NET.addCluster("a", PODS);
    ClusterNet netB = NET.addCluster("b", PODS);
    WireGuardKeyPair keysA = WireGuardKeyPair.generate();
    WireGuardKeyPair keysB = WireGuardKeyPair.generate();
    a = side("a", netA, keysA, record("b", netB, keysB), "100.64.0.1/32", List.of(Cidr.parse("172.16.0.0/12")));
    b = side("b", netB, keysB, record("a", netA, keysA), "100.64.0.2/32", List.of(Cidr.parse("10.0.0.0/8")));

    // First passes: decide the views (no hub involved), bring up WireGuard and routes.
    a.reconciler().reconcileNow();
    b.reconciler().reconcileNow();
    deliver(a, b);
    deliver(b, a);
    // Second passes: the views of each other have arrived; NAT follows.
    a.reconciler().reconcileNow();
    b.reconciler().reconcileNow();
  }

  @AfterAll
  static void stop() {
    for (Side s : new Side[] {a, b}) {
      if (s != null) {
        s.reconciler().close();
        s.wireGuard().close();
      }
    }
  }

  @Test
  @Order(1)
  void eachSideDecidedItsOwnViewAndGotTheOthers() {
    assertEquals(Cidr.parse("172.16.0.0/16"), a.seenAs(b));
    assertEquals(Cidr.parse("10.0.0.0/16"), b.seenAs(a));
    assertEquals(a.state().myViews().get("b"), b.state().viewsOfMe().get("a"));
    assertEquals(b.state().myViews().get("a"), a.state().viewsOfMe().get("b"));
    assertEquals(0, a.sync().rejectedViews() + b.sync().rejectedViews());

    List<NatRule> rulesOfA = a.nat().tables().get(NatFamily.IPV4).rules().stream().sorted(NatRule.ORDER).toList();
    String wgA = a.net().wireGuardInterface();
    assertEquals(List.of(
        new NatRule.Dnat("b", wgA, Cidr.parse("172.16.0.0/16"), Cidr.parse("10.0.0.0/16"), Cidr.parse(PODS)),
        new NatRule.Snat("b", wgA, Cidr.parse(PODS), Cidr.parse("172.16.0.0/16"), Cidr.parse("10.0.0.0/16"))),
        rulesOfA);
  }

  @Test
  @Order(2)
  void aReachesBsWorkloadAsItSeesItAndBSeesTheSourceAsItSeesA() {
    String bAsSeenByA = a.workloadOf(b); // 172.16.0.10
    String aAsSeenByB = b.workloadOf(a); // 10.0.0.10
    assertEquals("172.16.0.10", bAsSeenByA);
    assertEquals("10.0.0.10", aAsSeenByB);

    // The first packet waits in wireguard-go for the handshake.
    await().atMost(Duration.ofSeconds(15)).until(() -> NET.ping(a.net().workload(), bAsSeenByA, 1));
    assertTrue(NET.ping(a.net().workload(), bAsSeenByA, 3), "ping a -> b as a sees it");

    NET.spawn(b.net().workload(), List.of("socat", "TCP-LISTEN:" + ECHO_PORT + ",reuseaddr,fork",
        "SYSTEM:echo $SOCAT_PEERADDR"), dir.resolve("echo-b.log"));
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() ->
        NET.exec(a.net().workload(), "socat", "-t", "5", "-T", "5", "-", "TCP:" + bAsSeenByA + ":" + ECHO_PORT)
            .stdout().strip().equals(aAsSeenByB));
  }

  @Test
  @Order(3)
  void theOtherDirectionUsesTheOtherTranslation() {
    String aAsSeenByB = b.workloadOf(a);
    String bAsSeenByA = a.workloadOf(b);
    await().atMost(Duration.ofSeconds(15)).until(() -> NET.ping(b.net().workload(), aAsSeenByB, 1));

    NET.spawn(a.net().workload(), List.of("socat", "TCP-LISTEN:" + ECHO_PORT + ",reuseaddr,fork",
        "SYSTEM:echo $SOCAT_PEERADDR"), dir.resolve("echo-a.log"));
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() ->
        NET.exec(b.net().workload(), "socat", "-t", "5", "-T", "5", "-", "TCP:" + aAsSeenByB + ":" + ECHO_PORT)
            .stdout().strip().equals(bAsSeenByA));
  }

  @Test
  @Order(4)
  void aSecondPassChangesNothingAndADeletedTableIsRepaired() {
    assertEquals(List.of(), a.reconciler().reconcileNow());
    List<NatRule> planned = NatPlanner.plan(a.net().wireGuardInterface(), List.of(Cidr.parse(PODS)), a.state(),
        java.util.Set.of());
    assertEquals(List.of(), NatDiff.diff(planned, a.nat().tables()));

    NET.exec(a.net().gateway(), "nft", "delete", "table", "ip", "meshwire").orThrow();
    assertFalse(NET.ping(a.net().workload(), a.workloadOf(b), 2), "without SNAT, B's WireGuard drops A's packets");

    a.reconciler().reconcileNow();
    assertEquals(List.of(), NatDiff.diff(planned, a.nat().tables()));
    await().atMost(Duration.ofSeconds(10)).until(() -> NET.ping(a.net().workload(), a.workloadOf(b), 1));
  }
}
