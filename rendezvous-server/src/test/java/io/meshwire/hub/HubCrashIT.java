package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.Role;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceResponse;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub process is SIGKILLed in the middle of a burst of announces. After a restart on the same
 * data, every acknowledged change is present and the log replays as consecutive revisions.
 */
class HubCrashIT {

  @TempDir Path data;

  @Test
  void everyAcknowledgedAnnounceSurvivesSigkill() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    // Create the CA and admin credential first with an in-process hub, then hand the data over.
    List<String> clusters = List.of("c1", "c2", "c3", "c4");
    Map<String, TlsCredentials> creds = new ConcurrentHashMap<>();
    try (HubFixture setup = new HubFixture(data)) {
      clusters.forEach(c -> creds.put(c, setup.issue(Role.CLUSTER, c)));
    }

    String java = ProcessHandle.current().info().command().orElse("java");
    Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
        System.getProperty("java.class.path"), HubProcessMain.class.getName(), data.toString(), String.valueOf(port))
        .redirectErrorStream(true).start();
    Map<String, Long> ackedGeneration = new ConcurrentHashMap<>();
    AtomicInteger acks = new AtomicInteger();
    long maxAckedRevision;
    ExecutorService senders = Executors.newFixedThreadPool(clusters.size());
    try (HubFixture.Client client = HubFixture.client(data, port)) {
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
      String line;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while ((line = out.readLine()) != null && !line.startsWith("READY") && System.nanoTime() < deadline) {
        // skip the child's log lines
      }
      Thread.ofVirtual().start(() -> out.lines().forEach(l -> { })); // keep draining its output
      List<Long> revisions = new ArrayList<>();
      for (String c : clusters) {
        senders.submit(() -> {
          var stub = RendezvousGrpc.newBlockingStub(client.channel(creds.get(c)));
          int n = clusters.indexOf(c) + 1;
          for (long g = 1; g <= 100_000; g++) {
            try {
              AnnounceResponse r = stub.withDeadlineAfter(5, TimeUnit.SECONDS)
                  .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record(c, n, g)).build());
              ackedGeneration.put(c, g);
              synchronized (revisions) {
                revisions.add(r.getRevision());
              }
              acks.incrementAndGet();
            } catch (RuntimeException e) {
              return; // the hub died
            }
          }
        });
      }
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> acks.get() >= 400);
      child.destroyForcibly(); // SIGKILL on Linux
      assertTrue(child.waitFor(10, TimeUnit.SECONDS));
      senders.shutdown();
      assertTrue(senders.awaitTermination(30, TimeUnit.SECONDS));
      synchronized (revisions) {
        maxAckedRevision = revisions.stream().mapToLong(Long::longValue).max().orElseThrow();
      }
    } finally {
      child.destroyForcibly();
      senders.shutdownNow();
    }

    try (HubFixture restarted = new HubFixture(data)) {
      var listed = MeshAdminGrpc.newBlockingStub(restarted.channel(restarted.admin()))
          .listClusters(ListClustersRequest.getDefaultInstance());
      assertTrue(listed.getRevision() >= maxAckedRevision,
          "revision " + listed.getRevision() + " lost acknowledged " + maxAckedRevision);
      for (var c : listed.getClustersList()) {
        long acked = ackedGeneration.getOrDefault(c.getRecord().getClusterId(), 0L);
        assertTrue(c.getRecord().getGeneration() >= acked,
            c.getRecord().getClusterId() + " has generation " + c.getRecord().getGeneration() + " < acked " + acked);
      }
      assertEquals(clusters.size(), listed.getClustersCount());
      // The log replays from revision 1 as consecutive revisions up to the head.
      try (WatchRecorder all = new WatchRecorder(restarted.channel(creds.get("c1")), 1, "")) {
        all.awaitCaughtUp();
        List<Long> seen = all.events.stream().filter(WatchEvent::hasClusterUpserted).map(WatchEvent::getRevision).toList();
        for (int i = 0; i < seen.size(); i++) {
          assertEquals(2 + i, seen.get(i));
        }
        assertEquals(listed.getRevision(), seen.get(seen.size() - 1));
      }
    }
  }
}
