package io.meshwire.testsupport.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netlab.netns.ClusterNet;
import io.meshwire.netlab.netns.Exec;
import io.meshwire.netlab.netns.NetworkNamespaces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Builds real namespaces: needs root (see {@link Requirements}). */
class NetworkNamespacesIT {

  @BeforeAll
  static void requirements() {
    Requirements.check().enforce();
  }

  private static List<String> netnsList() {
    return Exec.run(List.of("ip", "netns", "list")).orThrow().stdout().lines()
        .map(l -> l.strip().split("\\s+")[0]).toList();
  }

  @Test
  void wiresGatewaysToTheInternetAndWorkloadsToTheirGatewayThenRemovesEverything() throws Exception {
    NetworkNamespaces net = NetworkNamespaces.create();
    String id = net.id();
    Process sleeper;
    try {
      ClusterNet a = net.addCluster("a", "10.101.0.0/16");
      ClusterNet b = net.addCluster("b", "10.102.0.0/16");

      assertEquals(new ClusterNet("a", id + "-a-gw", id + "-a-wl", "198.18.0.11", "10.101.0.0/16",
          "10.101.0.1", "10.101.0.10", id + "awg", id + "au"), a);
      assertTrue(net.ping(a.gateway(), b.publicAddress(), 1), "gateway a reaches gateway b");
      assertTrue(net.ping(a.workload(), a.gatewayPodAddress(), 1), "workload a reaches its gateway");
      assertTrue(net.ping(a.workload(), a.publicAddress(), 1), "workload a reaches its gateway's uplink");
      assertFalse(net.ping(a.workload(), b.workloadAddress(), 1), "no tunnel yet, so no route to b's pods");
      assertEquals("1", net.exec(a.gateway(), "cat", "/proc/sys/net/ipv4/ip_forward").orThrow().stdout().strip());
      assertTrue(net.exec(b.workload(), "ip", "route", "show", "default").orThrow().stdout()
          .contains("via 10.102.0.1"));
      assertTrue(netnsList().containsAll(net.namespaces()));
      assertTrue(Files.exists(Path.of("/run/meshwire-testnet", id)));

      sleeper = net.spawn(a.gateway(), List.of("sleep", "300"));
      assertTrue(sleeper.isAlive());
      assertEquals(List.of(), NetworkNamespaces.sweepLeftovers().stream().filter(n -> n.startsWith(id)).toList(),
          "a sweep leaves a live run alone");
    } finally {
      net.close();
    }
    assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS), "spawned process stopped");
    assertTrue(netnsList().stream().noneMatch(n -> n.startsWith(id)), "namespaces removed");
    assertFalse(Files.exists(Path.of("/run/meshwire-testnet", id)), "owner file removed");
    assertFalse(Exec.run(List.of("ip", "-o", "link")).orThrow().stdout().contains(id), "no links left behind");
  }

  @Test
  void sweepRemovesNamespacesAndProcessesOfADeadRun() throws Exception {
    String stale = NetworkNamespaces.PREFIX + "0bad";
    String namespace = stale + "-x-gw";
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor(10, TimeUnit.SECONDS);
    Files.createDirectories(Path.of("/run/meshwire-testnet"));
    Files.writeString(Path.of("/run/meshwire-testnet", stale), gone.pid() + " 1970-01-01T00:00:00Z\n");
    Exec.run(List.of("ip", "netns", "add", namespace)).orThrow();
    Process orphan = new ProcessBuilder("ip", "netns", "exec", namespace, "sleep", "300").start();
    try {
      List<String> removed = NetworkNamespaces.sweepLeftovers();

      assertTrue(removed.contains(namespace), "removed " + removed);
      assertTrue(orphan.waitFor(10, TimeUnit.SECONDS), "process inside the dead run's namespace stopped");
      assertFalse(netnsList().contains(namespace));
      assertFalse(Files.exists(Path.of("/run/meshwire-testnet", stale)));
    } finally {
      orphan.destroyForcibly();
      Exec.run(List.of("ip", "netns", "del", namespace));
      Files.deleteIfExists(Path.of("/run/meshwire-testnet", stale));
    }
  }

  @Test
  void aSweepLeavesAnOwnerFileBeingWrittenAlone() throws Exception {
    // What another JVM's fixture holds while it writes its owner record: before the record is
    // whole it is a temporary file, and a sweep that took it for a dead run's would delete it
    // and, later, that live run's namespaces.
    Path writing = Path.of("/run/meshwire-testnet", "." + NetworkNamespaces.PREFIX + "0ccc.tmp");
    Files.createDirectories(writing.getParent());
    Files.writeString(writing, "");
    try {
      NetworkNamespaces.sweepLeftovers();

      assertTrue(Files.exists(writing), "the half-written owner record is still there");
    } finally {
      Files.deleteIfExists(writing);
    }
  }
}
