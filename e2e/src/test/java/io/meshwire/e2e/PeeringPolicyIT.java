package io.meshwire.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.testsupport.netns.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Peering policy end to end on real WireGuard (wireguard-go) between network namespaces, with the
 * hub and agents as processes from the built jar: two env groups (prod: p1 p2; dev: d1) and a
 * cluster every group reaches (sh). Only the allowed pairs get a tunnel and ping; relabelling a
 * cluster moves its tunnels within 2 s; with the hub down the agents keep the last policy, also
 * across an agent restart. The scenarios build on each other, in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PeeringPolicyIT {

  private static final Logger log = LoggerFactory.getLogger(PeeringPolicyIT.class);
  private static final List<String> ALL = List.of("p1", "p2", "d1", "sh");
  private static final String POLICIES = """
      apiVersion: meshwire.io/v1alpha1
      kind: PeeringPolicy
      metadata: {name: prod}
      spec: {mode: direct, clusters: {matchLabels: {env: prod}}, peers: {matchLabels: {env: prod}}}
      ---
      apiVersion: meshwire.io/v1alpha1
      kind: PeeringPolicy
      metadata: {name: dev}
      spec: {mode: direct, clusters: {matchLabels: {env: dev}}, peers: {matchLabels: {env: dev}}}
      ---
      apiVersion: meshwire.io/v1alpha1
      kind: PeeringPolicy
      metadata: {name: to-shared}
      spec: {mode: direct, clusters: {}, peers: {matchLabels: {env: shared}}}
      ---
      apiVersion: meshwire.io/v1alpha1
      kind: PeeringPolicy
      metadata: {name: from-shared}
      spec: {mode: direct, clusters: {matchLabels: {env: shared}}, peers: {}}
      """;

  private static MeshLab lab;

  @BeforeAll
  static void startLab() throws Exception {
    Requirements.check().enforce(); // skips, or fails under MESHWIRE_E2E_REQUIRED=1
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("policy-" + System.nanoTime());
    lab = MeshLab.start(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")));
  }

  @AfterAll
  static void stopLab() {
    if (lab != null) {
      lab.close();
    }
  }

  private static String publicKey(String cluster) {
    return lab.wgDump(cluster).strip().split("\n")[0].split("\t")[1];
  }

  /** The clusters that {@code cluster}'s WireGuard interface has a peer for. */
  private static Set<String> tunnels(String cluster, Map<String, String> keys) {
    Set<String> out = new TreeSet<>();
    String dump = lab.wgDump(cluster);
    keys.forEach((name, key) -> {
      if (!name.equals(cluster) && dump.contains(key)) {
        out.add(name);
      }
    });
    return out;
  }

  private static Map<String, String> keys;

  @Test
  @Order(1)
  void onlyTheAllowedPairsGetATunnelAndPing() throws Exception {
    Path file = Files.writeString(lab.hubDataDir().resolveSibling("policy.yaml"), POLICIES);
    assertEquals(0, lab.cli("policy", "apply", "-f", file.toString()).exitCode());
    Map<String, String> env = Map.of("p1", "prod", "p2", "prod", "d1", "dev", "sh", "shared");
    lab.addCluster("p1", "10.111.0.0/16");
    lab.addCluster("p2", "10.112.0.0/16");
    lab.addCluster("d1", "10.113.0.0/16");
    lab.addCluster("sh", "10.114.0.0/16");
    for (String c : ALL) {
      assertEquals(0, lab.cli("clusters", "label", c, "env=" + env.get(c)).exitCode());
    }
    for (String[] pair : List.of(new String[] {"p1", "p2"}, new String[] {"p1", "sh"}, new String[] {"p2", "sh"},
        new String[] {"d1", "sh"})) {
      MeshLab.awaitTrue(() -> lab.ping(pair[0], pair[1], 1) && lab.ping(pair[1], pair[0], 1), Duration.ofSeconds(60),
          "ping " + pair[0] + " <-> " + pair[1]);
    }
    keys = Map.of("p1", publicKey("p1"), "p2", publicKey("p2"), "d1", publicKey("d1"), "sh", publicKey("sh"));
    assertEquals(Set.of("p2", "sh"), tunnels("p1", keys));
    assertEquals(Set.of("sh"), tunnels("d1", keys));
    assertEquals(Set.of("p1", "p2", "d1"), tunnels("sh", keys));
    assertFalse(lab.ping("p1", "d1", 1), "prod and dev do not reach each other");
    assertFalse(lab.ping("d1", "p2", 1));
  }

  @Test
  @Order(2)
  void relabellingAClusterMovesItsTunnelsWithin2Seconds() throws Exception {
    assertEquals(0, lab.cli("clusters", "label", "p2", "env=dev").exitCode());
    long relabelled = System.nanoTime(); // the CLI returns once the hub has stored the change
    MeshLab.awaitTrue(() -> tunnels("p1", keys).equals(Set.of("sh")), Duration.ofSeconds(2), "p1 to drop p2");
    MeshLab.awaitTrue(() -> tunnels("d1", keys).equals(Set.of("p2", "sh")), Duration.ofSeconds(2), "d1 to add p2");
    MeshLab.awaitTrue(() -> tunnels("p2", keys).equals(Set.of("d1", "sh")), Duration.ofSeconds(2), "p2 to swap p1 for d1");
    log.info("measured policy_relabel_tunnels_ms={}", (System.nanoTime() - relabelled) / 1_000_000);
    assertEquals(Set.of("p1", "p2", "d1"), tunnels("sh", keys), "sh keeps every tunnel");
    MeshLab.awaitTrue(() -> lab.ping("d1", "p2", 1), Duration.ofSeconds(10), "ping d1 -> p2 through the new tunnel");
    assertFalse(lab.ping("p1", "p2", 1), "p1 no longer reaches p2");
  }

  @Test
  @Order(3)
  void withTheHubDownAgentsKeepTheLastPolicyAlsoAfterARestart() throws Exception {
    lab.killHub();
    lab.killAgentAndDataPlane("d1");
    lab.startAgent("d1");
    MeshLab.awaitTrue(() -> lab.ping("d1", "p2", 1) && lab.ping("d1", "sh", 1), Duration.ofSeconds(15),
        "d1's allowed tunnels back from its state alone");
    assertEquals(Set.of("p2", "sh"), tunnels("d1", keys), "d1 restored exactly its allowed peers");
    assertFalse(lab.ping("d1", "p1", 1), "d1 still does not reach p1");
    assertEquals(Set.of("sh"), tunnels("p1", keys));
    assertTrue(lab.ping("p1", "sh", 1));
  }
}
