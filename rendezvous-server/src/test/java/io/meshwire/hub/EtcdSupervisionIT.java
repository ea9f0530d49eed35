package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.etcd.EtcdClients;
import io.meshwire.hub.etcd.EtcdMembership;
import io.meshwire.hub.etcd.EtcdSettings;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.testsupport.etcd.EtcdCluster;
import io.meshwire.testsupport.etcd.EtcdClusterExtension;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replica supervises what jetcd does not: its lease (lost: granted again, presence written
 * again) and its watch (a member that hangs with the connection open: the watch is replaced and
 * changes keep arriving). Real 3-member etcd; a hung member is a SIGSTOPped process.
 */
class EtcdSupervisionIT {

  @RegisterExtension static final EtcdClusterExtension ETCD = new EtcdClusterExtension(3);

  @TempDir Path dir;
  private String prefix;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void freshPrefix() {
    prefix = "/sup-" + UUID.randomUUID() + "/";
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private HubFixture replica(String name, List<String> endpoints) throws Exception {
    if (!name.equals("hub-a")) {
      HubFixture.copyTree(dir.resolve("hub-a/ca"), dir.resolve(name + "/ca"));
      HubFixture.copyTree(dir.resolve("hub-a/admin"), dir.resolve(name + "/admin"));
    }
    var tls = ETCD.cluster().clientTls();
    Map<String, String> s = new HashMap<>();
    s.put("store", "etcd");
    s.put("etcd-endpoints", String.join(",", endpoints));
    s.put("etcd-ca", tls.ca().toString());
    s.put("etcd-cert", tls.cert().toString());
    s.put("etcd-key", tls.key().toString());
    s.put("etcd-prefix", prefix);
    s.put("hub-name", name);
    HubFixture hub = new HubFixture(dir.resolve(name), s);
    open.add(hub);
    return hub;
  }

  private Client etcdClient() {
    var tls = ETCD.cluster().clientTls();
    Client c = EtcdClients.connect(new EtcdSettings(ETCD.cluster().endpoints().stream().map(URI::create).toList(),
        tls.ca(), tls.cert(), tls.key(), prefix), Duration.ofSeconds(5));
    open.add(c);
    return c;
  }

  private static EtcdMembership etcdOf(HubFixture hub) {
    return (EtcdMembership) hub.hub().membership();
  }

  @Test
  void aReplicaWhoseLeaseIsGoneGrantsANewOneAndIsPresentAgain() throws Exception {
    HubFixture a = replica("hub-a", ETCD.cluster().endpoints());
    Client c = etcdClient();
    ByteSequence presence = ByteSequence.from(prefix + "~replicas/hub-a", StandardCharsets.UTF_8);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> lease(c, presence) != 0);
    long first = lease(c, presence);

    // What a keep-alive stream that ended silently leads to: the lease expires and its keys go.
    c.getLeaseClient().revoke(first).get(5, TimeUnit.SECONDS);
    assertEquals(0, lease(c, presence));

    long start = System.nanoTime();
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> lease(c, presence) != 0);
    long afterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertNotEquals(first, lease(c, presence), "a new lease");
    assertEquals(1, etcdOf(a).leaseLosses());
    System.out.printf("lease lost: presence back after %d ms%n", afterMs);
    // The replica goes on serving writes.
    TlsCredentials east = a.enroll("east");
    RendezvousGrpc.newBlockingStub(a.channel(east)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 1)).build());
  }

  private static long lease(Client c, ByteSequence key) throws Exception {
    var kvs = c.getKVClient().get(key).get(5, TimeUnit.SECONDS).getKvs();
    return kvs.isEmpty() ? 0 : kvs.get(0).getLease();
  }

  @Test
  void aWatchOnAnEtcdMemberThatHangsIsReplacedAndChangesKeepArriving() throws Exception {
    EtcdCluster etcd = ETCD.cluster();
    double[] before = IntStream.range(0, etcd.size()).mapToDouble(i -> watchers(etcd, i)).toArray();
    HubFixture a = replica("hub-a", etcd.endpoints());
    TlsCredentials east = a.enroll("east");
    int[] host = new int[] {-1};
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
      for (int i = 0; i < etcd.size(); i++) {
        if (watchers(etcd, i) > before[i]) {
          host[0] = i;
          return true;
        }
      }
      return false;
    });
    int hung = host[0];
    List<String> others = new ArrayList<>();
    for (int i = 0; i < etcd.size(); i++) {
      if (i != hung) {
        others.add(etcd.endpoint(i));
      }
    }
    HubFixture writer = replica("hub-w", others);
    long stallsBefore = etcdOf(a).watchStalls();

    etcd.suspend(hung);
    try {
      long start = System.nanoTime();
      long[] acknowledged = new long[2]; // generation, revision
      java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();
      Awaitility.await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> {
        long g = generation.incrementAndGet(); // an attempt that timed out may still have been written
        acknowledged[1] = RendezvousGrpc.newBlockingStub(writer.channel(east)).withDeadlineAfter(3, TimeUnit.SECONDS)
            .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, g)).build()).getRevision();
        acknowledged[0] = g;
        return true;
      });
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> a.hub().membership().cluster("east")
          .filter(r -> r.generation() == acknowledged[0]).isPresent());
      long afterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(etcdOf(a).watchStalls() > stallsBefore, "the stall was detected by the replica, not by chance");
      assertEquals(acknowledged[1], a.hub().membership().durableRevision());
      System.out.printf("etcd member %d hung: change written at revision %d seen by the replica after %d ms%n",
          hung, acknowledged[1], afterMs);
    } finally {
      etcd.resume(hung);
    }
  }

  /** Watchers the member serves (etcd's own gauge); NaN when it does not answer. */
  private static double watchers(EtcdCluster etcd, int member) {
    return etcd.metric(member, "etcd_debugging_mvcc_watcher_total");
  }
}
