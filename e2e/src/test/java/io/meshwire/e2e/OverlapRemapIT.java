package io.meshwire.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.meshwire.netaddr.Cidr;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.testsupport.netns.Requirements;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Overlapping pod CIDRs end to end: clusters a, b, c all use 10.244.0.0/16, d uses 10.50.0.0/16.
 * Each cluster reaches the others at the addresses of its views, and a server sees its clients at
 * the addresses of its own views of them; all of it survives a hub outage and an agent restart
 * during it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OverlapRemapIT {

  private static final Logger log = LoggerFactory.getLogger(OverlapRemapIT.class);
  private static final int ECHO = 7000;
  private static MeshLab lab;

  @BeforeAll
  static void startLab() throws Exception {
    Requirements.check().enforce();
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("overlap-" + System.nanoTime());
    lab = MeshLab.start(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")));
  }

  @AfterAll
  static void stopLab() {
    if (lab != null) {
      lab.close();
    }
  }

  /** The workload of {@code peer} (its network + 10) as {@code observer} sees it. */
  private static String workloadAsSeenBy(String observer, String peer) {
    MeshLab.awaitTrue(() -> lab.seenAs(observer, peer).isPresent(), Duration.ofSeconds(30),
        observer + " to decide its view of " + peer);
    Cidr view = Cidr.parse(lab.seenAs(observer, peer).orElseThrow());
    return Cidr.of(view.first().add(BigInteger.TEN), view.addressBits(), view.isIpv4()).address().getHostAddress();
  }

  /** From {@code client}, asks a's echo server at a's address as the client sees it. */
  private static void assertEchoSeesClientThroughItsView(String client) {
    String target = workloadAsSeenBy(client, "a");
    String expectedSource = workloadAsSeenBy("a", client);
    MeshLab.awaitTrue(() -> !lab.tcpAsk(client, target, ECHO).isEmpty(), Duration.ofSeconds(30),
        client + " -> a's echo at " + target);
    String answer = lab.tcpAsk(client, target, ECHO);
    assertEquals(expectedSource, answer, "a sees " + client + " as its view of it");
  }

  @Test
  @Order(1)
  void overlappingClustersReachEachOtherThroughTheirViews() throws Exception {
    lab.addCluster("a", "10.244.0.0/16");
    lab.addCluster("b", "10.244.0.0/16");
    lab.addCluster("c", "10.244.0.0/16");
    lab.addCluster("d", "10.50.0.0/16");
    lab.startEchoServer("a", ECHO);

    // The overlapping clusters are remapped, each differently; d is seen as itself.
    workloadAsSeenBy("b", "a"); // waits for b's decision
    String bSeesA = lab.seenAs("b", "a").orElseThrow();
    assertNotEquals("10.244.0.0/16", bSeesA, "b remaps a");
    workloadAsSeenBy("a", "d");
    assertEquals("10.50.0.0/16", lab.seenAs("a", "d").orElseThrow(), "a sees d as itself");
    log.info("views b_sees_a={} a_sees_b={} a_sees_c={}", bSeesA, lab.seenAs("a", "b").orElse("?"),
        lab.seenAs("a", "c").orElse("?"));

    for (String client : List.of("b", "c", "d")) {
      assertEchoSeesClientThroughItsView(client);
    }
  }

  @Test
  @Order(2)
  void keepsWorkingWhileTheHubIsDownAndAfterAnAgentRestart() throws Exception {
    lab.killHub();
    assertEchoSeesClientThroughItsView("b");
    lab.killAgentAndDataPlane("a");
    lab.startAgent("a");
    for (String client : List.of("b", "c")) {
      assertEchoSeesClientThroughItsView(client);
    }
  }
}
