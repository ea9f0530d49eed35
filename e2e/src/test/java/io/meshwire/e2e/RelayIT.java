package io.meshwire.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import io.meshwire.relay.client.HomeRelay;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.testsupport.netns.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relay fallback end to end, on wireguard-go between network namespaces: three clusters, two
 * standalone relays (each cluster homed on one by the hash of its ID), and an nftables rule in
 * the "internet" that drops every UDP datagram between a's and b's gateways. The scenarios build
 * on each other, in order; the data path is judged by {@code wg show} (a relayed peer's endpoint is
 * the agent's bridge socket on 127.0.0.1) and by pings between the workloads.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RelayIT {

  private static final Logger log = LoggerFactory.getLogger(RelayIT.class);
  private static final List<String> RELAYS = List.of("r1", "r2");
  /** With relays on 198.18.0.3 and .4, this port homes a and b on different relays (asserted below). */
  private static final int RELAY_PORT = 2443;
  /**
   * Path timings shorter than the defaults (agent flags), so a lifted block is found and confirmed
   * in seconds, not the 5 s first probe plus 10 s of answered probes; detection is unchanged.
   */
  private static final List<String> FAST_PATHS = List.of("--path-probe-backoff", "1s", "--path-probe-backoff-max",
      "2s", "--path-upgrade-after", "3s");
  private static MeshLab lab;

  @BeforeAll
  static void startLab() throws Exception {
    Requirements.check().enforce(); // skips, or fails under MESHWIRE_E2E_REQUIRED=1
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("relay-" + System.nanoTime());
    lab = MeshLab.startWithRelays(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")),
        RELAYS, RELAY_PORT);
  }

  @AfterAll
  static void stopLab() {
    if (lab != null) {
      lab.close();
    }
  }

  private static String endpoint(String from, String to) {
    return lab.wgEndpoint(from, to);
  }

  private static boolean relayed(String from, String to) {
    return endpoint(from, to).startsWith("127.0.0.1:");
  }

  private static boolean direct(String from, String to) {
    return endpoint(from, to).equals(lab.cluster(to).publicAddress() + ":51820");
  }

  @Test
  @Order(1)
  void threeClustersFormADirectMeshWithTwoRelaysListed() throws Exception {
    lab.addCluster("a", "10.111.0.0/16", FAST_PATHS);
    lab.addCluster("b", "10.112.0.0/16", FAST_PATHS);
    lab.addCluster("c", "10.113.0.0/16", FAST_PATHS);
    lab.awaitFullMesh(List.of("a", "b", "c"), Duration.ofSeconds(60));
    List<HostPort> relays = RELAYS.stream().map(r -> HostPort.parse(lab.relayAddress(r))).toList();
    HostPort homeA = HomeRelay.of("a", relays).orElseThrow();
    HostPort homeB = HomeRelay.of("b", relays).orElseThrow();
    log.info("homes a={} b={} c={}", homeA, homeB, HomeRelay.of("c", relays).orElseThrow());
    assertTrue(!homeA.equals(homeB), "a and b must be homed on different relays: each direction crosses the other's");
    for (String from : List.of("a", "b", "c")) {
      for (String to : List.of("a", "b", "c")) {
        if (!from.equals(to)) {
          String t = to;
          MeshLab.awaitTrue(() -> direct(from, t), Duration.ofSeconds(10), from + " -> " + to + " direct");
        }
      }
    }
  }

  @Test
  @Order(2)
  void blockedPairMovesToTheRelayWithinSecondsAndTheOtherLinksStayDirect() throws Exception {
    // 10 Hz pings over the switch: the loss is the switch's cost.
    CompletableFuture<Integer> loss = CompletableFuture.supplyAsync(
        () -> lab.pingLoss("a", "b", 120, Duration.ofMillis(100)));
    long blocked = System.nanoTime();
    lab.blockUdp("a", "b", true);
    MeshLab.awaitTrue(() -> relayed("a", "b") && relayed("b", "a") && lab.ping("a", "b", 1), Duration.ofSeconds(20),
        "a <-> b relayed and pinging");
    long ms = (System.nanoTime() - blocked) / 1_000_000;
    int lost = loss.get();
    log.info("measured blackhole_to_relayed_ms={} ping_lost_during_switch={} of 120 (10 Hz)", ms, lost);
    assertTrue(lost < 120, "pings never got through the relay");
    assertTrue(direct("a", "c") && direct("c", "a") && direct("b", "c") && direct("c", "b"),
        "a<->c and b<->c stay direct");
    assertTrue(lab.agentStatus("a").contains("\"path\":\"relayed\""), lab.agentStatus("a"));
    assertEquals(0, lab.pingLoss("a", "b", 30, Duration.ofMillis(100)), "relayed path loses nothing once settled");
  }

  @Test
  @Order(3)
  void hubSigkillWhileRelayedLosesNothing() throws Exception {
    lab.killHub();
    int lost = lab.pingLoss("a", "b", 50, Duration.ofMillis(100));
    log.info("measured hub_down_relayed_ping_lost={} of 50", lost);
    assertEquals(0, lost);
  }

  @Test
  @Order(4)
  void agentRestartedWhileRelayedAndHubDownIsRelayedAgainFromItsState() throws Exception {
    lab.killAgent("a");
    long restarted = System.nanoTime();
    lab.startAgent("a");
    MeshLab.awaitTrue(() -> relayed("a", "b") && lab.ping("a", "b", 1), Duration.ofSeconds(20),
        "a relayed to b again after its restart");
    log.info("measured agent_restart_relayed_again_ms={} (hub down, JVM start included)",
        (System.nanoTime() - restarted) / 1_000_000);
    assertTrue(direct("a", "c"), "a -> c still direct");
  }

  @Test
  @Order(5)
  void liftedBlockReturnsThePairToDirectAndItStaysDirect() throws Exception {
    lab.startHub();
    long lifted = System.nanoTime();
    lab.blockUdp("a", "b", false);
    MeshLab.awaitTrue(() -> direct("a", "b") && direct("b", "a"), Duration.ofSeconds(45), "a <-> b direct again");
    log.info("measured unblocked_to_direct_ms={}", (System.nanoTime() - lifted) / 1_000_000);
    int lost = lab.pingLoss("a", "b", 50, Duration.ofMillis(100));
    log.info("measured after_return_ping_lost={} of 50", lost);
    assertTrue(direct("a", "b") && direct("b", "a"), "stays direct: " + endpoint("a", "b") + " " + endpoint("b", "a"));
    assertEquals(0, lost);
  }

  @Test
  @Order(6)
  void relayOnlyPeeringKeepsAWorkingDirectPairOnTheRelayUntilThePolicySaysDirect() throws Exception {
    // a speaks for itself (relay only to c, direct to b); b and c take the default (allow).
    long applied = System.nanoTime();
    applyPolicies("relay-only");
    MeshLab.awaitTrue(() -> relayed("a", "c") && relayed("c", "a") && lab.ping("a", "c", 1), Duration.ofSeconds(20),
        "a <-> c relayed under the relay-only policy");
    log.info("measured relay_only_policy_to_relayed_ms={}", (System.nanoTime() - applied) / 1_000_000);
    // The direct path works, and probes would pass within seconds: the policy keeps the pair relayed.
    assertEquals(0, lab.pingLoss("a", "c", 50, Duration.ofMillis(100)));
    assertTrue(relayed("a", "c") && relayed("c", "a"), "still relayed: " + endpoint("a", "c") + " " + endpoint("c", "a"));
    assertTrue(direct("a", "b") && direct("b", "a") && direct("b", "c"), "other links stay direct");

    long allowed = System.nanoTime();
    applyPolicies("direct"); // the same pairs, now direct: the link is released to the usual rules
    MeshLab.awaitTrue(() -> direct("a", "c") && direct("c", "a"), Duration.ofSeconds(45), "a <-> c direct again");
    log.info("measured relay_only_lifted_to_direct_ms={}", (System.nanoTime() - allowed) / 1_000_000);
  }

  private static void applyPolicies(String aToC) throws Exception {
    Path file = Files.writeString(lab.hubDataDir().resolveSibling("a-policies.yaml"), """
        apiVersion: meshwire.io/v1alpha1
        kind: PeeringPolicy
        metadata: {name: a-to-c}
        spec: {mode: %s, clusters: {names: [a]}, peers: {names: [c]}}
        ---
        apiVersion: meshwire.io/v1alpha1
        kind: PeeringPolicy
        metadata: {name: a-to-b}
        spec: {mode: direct, clusters: {names: [a]}, peers: {names: [b]}}
        """.formatted(aToC));
    assertEquals(0, lab.cli("policy", "apply", "-f", file.toString()).exitCode());
  }

  @Test
  @Order(7)
  void killingTheRelaysWhileAllLinksAreDirectChangesNothing() throws Exception {
    for (String r : RELAYS) {
      lab.killRelay(r);
    }
    int lost = lab.pingLoss("a", "b", 50, Duration.ofMillis(100));
    assertEquals(0, lost);
    for (String from : List.of("a", "b", "c")) {
      for (String to : List.of("a", "b", "c")) {
        if (!from.equals(to)) {
          assertTrue(direct(from, to), from + " -> " + to + ": " + endpoint(from, to));
        }
      }
    }
  }
}
