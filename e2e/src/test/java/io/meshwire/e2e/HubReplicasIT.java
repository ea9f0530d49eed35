package io.meshwire.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netlab.etcd.EtcdCluster;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.testsupport.netns.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two hub replicas on etcd, three clusters on real WireGuard (wireguard-go) between network
 * namespaces, every process from the built jar: the replica most agents use is SIGKILLed while a
 * workload pings another; the pings go on, its agents resume on the other replica without a
 * snapshot, and a fourth cluster joins through the survivor.
 */
class HubReplicasIT {

  private static final Logger log = LoggerFactory.getLogger(HubReplicasIT.class);
  private static EtcdCluster etcd;
  private static MeshLab lab;

  @BeforeAll
  static void startLab() throws Exception {
    Requirements.check().enforce(); // skips, or fails under MESHWIRE_E2E_REQUIRED=1
    Assumptions.assumeTrue(Files.isExecutable(EtcdCluster.BINARY) || "1".equals(System.getenv("MESHWIRE_E2E_REQUIRED")),
        "etcd is not installed (Debian etcd-server)");
    etcd = EtcdCluster.start(1);
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("replicas-" + System.nanoTime());
    var tls = etcd.clientTls();
    lab = MeshLab.startReplicated(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")), 2,
        etcd.endpoints(), List.of(tls.ca(), tls.cert(), tls.key()));
  }

  @AfterAll
  static void stopLab() {
    if (lab != null) {
      lab.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  private static double metric(int replica, String name) {
    return MeshLab.metric(lab.replicaMetrics(replica), name).orElse(0.0);
  }

  @Test
  void theMeshKeepsPingingWhenAReplicaDiesAndAFourthClusterJoinsThroughTheSurvivor() throws Exception {
    long started = System.nanoTime();
    lab.addCluster("a", "10.111.0.0/16");
    lab.addCluster("b", "10.112.0.0/16");
    lab.addCluster("c", "10.113.0.0/16");
    lab.awaitFullMesh(List.of("a", "b", "c"), Duration.ofSeconds(60));
    log.info("measured full_mesh_ms={} (2 hub replicas on etcd, 3 agents)", (System.nanoTime() - started) / 1_000_000);
    MeshLab.awaitTrue(() -> metric(0, "meshwire_hub_watchers") + metric(1, "meshwire_hub_watchers") >= 3,
        Duration.ofSeconds(30), "3 agents watching the replicas");

    // The replica most agents use dies; the other one is the survivor.
    int victim = metric(0, "meshwire_hub_watchers") >= metric(1, "meshwire_hub_watchers") ? 0 : 1;
    int survivor = 1 - victim;
    double moving = metric(victim, "meshwire_hub_watchers");
    double snapshotsBefore = metric(survivor, "meshwire_hub_snapshots_served_total");
    CompletableFuture<Integer> lost = CompletableFuture.supplyAsync(
        () -> lab.pingLoss("a", "b", 100, Duration.ofMillis(100)));
    long killed = System.nanoTime();
    lab.killReplica(victim);
    MeshLab.awaitTrue(() -> metric(survivor, "meshwire_hub_watchers") >= 3, Duration.ofSeconds(30),
        "every agent on the surviving replica");
    long movedMs = (System.nanoTime() - killed) / 1_000_000;
    int lostPings = lost.get();
    log.info("measured replica_kill agents_moved={} moved_ms={} ping_lost={} of 100 (10 Hz)", (int) moving, movedMs,
        lostPings);
    assertEquals(0, lostPings, "pings lost while a hub replica died");
    assertEquals(snapshotsBefore, metric(survivor, "meshwire_hub_snapshots_served_total"),
        "agents that moved resumed from their revision, without a snapshot");

    // A fourth cluster joins through the survivor (its token made there; its agent lists both).
    long joining = System.nanoTime();
    lab.addCluster("d", "10.114.0.0/16", survivor);
    lab.awaitFullMesh(List.of("a", "b", "c", "d"), Duration.ofSeconds(60));
    log.info("measured fourth_cluster_join_ms={} (one replica down)", (System.nanoTime() - joining) / 1_000_000);
    assertTrue(lab.ping("d", "a", 1));
  }
}
