package io.meshwire.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.netlab.netns.ExecResult;
import io.meshwire.testsupport.netns.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub loses its data directory (SIGKILL, directory deleted, a new hub with a new CA and mesh
 * UID): the agents say so, and {@code meshwire agent rejoin} brings each cluster into the new mesh
 * (a running agent adopts it in place; a stopped one at its start) without losing a packet between
 * them, with real processes, wireguard-go and namespaces.
 */
class HubDataLossRejoinIT {

  private static final Logger log = LoggerFactory.getLogger(HubDataLossRejoinIT.class);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static MeshLab lab;

  @BeforeAll
  static void startLab() throws Exception {
    Requirements.check().enforce();
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("rejoin-" + System.nanoTime());
    lab = MeshLab.start(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")));
  }

  @AfterAll
  static void stopLab() {
    if (lab != null) {
      lab.close();
    }
  }

  private static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  @Test
  void afterHubDataLossRejoinBringsEachClusterIntoTheNewMeshWithItsTunnelUp() throws Exception {
    lab.addCluster("a", "10.111.0.0/16");
    lab.addCluster("b", "10.112.0.0/16");
    MeshLab.awaitTrue(() -> lab.ping("a", "b", 1) && lab.ping("b", "a", 1), WAIT, "a <-> b");
    String oldMesh = lab.agentStatus("a").replaceFirst("(?s).*\"mesh_uid\":\"([^\"]*)\".*", "$1");

    // Pings from a to b for the whole procedure, 5 per second.
    CompletableFuture<Integer> lost = CompletableFuture.supplyAsync(() -> lab.pingLoss("a", "b", 300, Duration.ofMillis(200)));

    lab.killHub();
    deleteTree(lab.hubDataDir());
    lab.startHub("rebuilt.meshwire"); // a new CA, mesh UID and trust domain

    for (String name : List.of("a", "b")) {
      MeshLab.awaitTrue(() -> lab.agentStatus(name).contains("the hub's certificate is not of this agent's mesh"), WAIT,
          name + " to report the hub's changed identity in /status");
    }
    // a rejoins while its agent runs: it adopts the new mesh in place and keeps b (not in the new
    // mesh yet) carried, tunnel untouched. Then b rejoins while its agent is stopped, and starts.
    long rejoinStarted = System.nanoTime();
    rejoin("a");
    long rejoined = System.nanoTime();
    awaitAdopted("a", oldMesh);
    log.info("measured running_agent_adopted_ms={} (rejoin command done to new mesh adopted)",
        (System.nanoTime() - rejoined) / 1_000_000);
    String carrying = lab.agentStatus("a");
    // b, a's only peer, is carried: listed with until when it is kept.
    assertTrue(carrying.contains("{\"cluster\":\"b\"") && carrying.contains("\"carried_until\":\"20"),
        "b carried by a, with until when: " + carrying);
    lab.stopAgent("b");
    rejoin("b");
    lab.startAgent("b");
    awaitAdopted("b", oldMesh);
    MeshLab.awaitTrue(() -> logContains("a", "carried peer announced in the new mesh cluster=b"),
        WAIT, "b to reappear in a's new mesh (nothing carried any more)");
    MeshLab.awaitTrue(() -> lab.ping("a", "b", 1) && lab.ping("b", "a", 1), WAIT, "a <-> b in the new mesh");
    log.info("measured rejoin_to_both_adopted_ms={}", (System.nanoTime() - rejoinStarted) / 1_000_000);

    // a adopted in place: restarted now, it loads the state it saved for the new trust domain.
    lab.stopAgent("a");
    lab.startAgent("a");
    MeshLab.awaitTrue(() -> lab.agentStatus("a").contains("\"hub_connected\":true"), WAIT, "a back after its restart");
    String restarted = lab.agentStatus("a");
    assertTrue(restarted.contains("\"state_problem\":null"), "a's state file accepted after the restart: " + restarted);
    MeshLab.awaitTrue(() -> lab.ping("a", "b", 1), WAIT, "a -> b after a's restart");

    int lostPings = lost.get(120, TimeUnit.SECONDS);
    log.info("measured pings_lost={} of 300 (a -> b every 200 ms, hub data loss, a rejoined running, b restarted,"
        + " a restarted)",
        lostPings);
    assertEquals(0, lostPings, lostPings + " of 300 pings lost");
  }

  private static void rejoin(String name) throws Exception {
    String token = lab.cli("token", "create", "--cluster", name, "--ttl", "1h").orThrow().stdout().strip();
    Path tokenFile = lab.agentStateDir(name).resolveSibling("rejoin-token-" + name);
    Files.writeString(tokenFile, token);
    ExecResult rejoin = lab.gatewayCli(name, "agent", "rejoin", "--state-dir", lab.agentStateDir(name).toString(),
        "--join-token-file", tokenFile.toString(), "--hub-ca", lab.hubDataDir().resolve("ca/ca.crt").toString(),
        "--hub", lab.hubAddress());
    assertEquals(0, rejoin.exitCode(), rejoin.toString());
  }

  private static boolean logContains(String name, String text) {
    try {
      return Files.readString(lab.agentLog(name)).contains(text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void awaitAdopted(String name, String oldMesh) {
    MeshLab.awaitTrue(() -> {
      String status = lab.agentStatus(name);
      return status.contains("\"hub_connected\":true") && status.contains("\"held\":null")
          && !status.contains("\"mesh_uid\":\"" + oldMesh + "\"");
    }, WAIT, name + " to adopt the new mesh");
    MeshLab.awaitTrue(() -> Files.notExists(lab.agentStateDir(name).resolve("rejoined")), WAIT,
        name + ": the one-time mark is gone");
  }
}
