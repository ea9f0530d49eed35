package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.certs.Csrs;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.etcd.EtcdClients;
import io.meshwire.hub.etcd.EtcdMembership;
import io.meshwire.hub.etcd.EtcdSettings;
import io.meshwire.hub.etcd.EtcdStartException;
import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubServer;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.GetClusterRequest;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.LinkState;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.netlab.etcd.EtcdCluster;
import io.meshwire.testsupport.etcd.EtcdClusterExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two hub replicas (in-process, real TLS) on one real 3-member etcd cluster: one revision on every
 * replica, the concurrency rules across replicas, revocation everywhere, what replicas share
 * besides membership (audit, presence, link reports) without moving the agents' revision, the
 * supervision of lease and watch (a hung member is a SIGSTOPped process), refusals at start, and
 * quorum loss. Each test uses a fresh key prefix.
 */
class EtcdReplicasIT {

  @RegisterExtension static final EtcdClusterExtension ETCD = new EtcdClusterExtension(3);

  @TempDir Path dir;
  private String prefix;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void freshPrefix() {
    prefix = "/it-" + UUID.randomUUID() + "/";
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private Map<String, String> etcdSettings(String hubName, EtcdCluster.ClientTls tls) {
    return HubFixture.etcdSettings(ETCD.cluster(), tls, hubName, prefix);
  }

  /** Replica A creates the mesh CA; B mounts copies of the same CA and admin files. */
  private HubFixture[] twoReplicas() throws Exception {
    HubFixture a = new HubFixture(dir.resolve("a"), etcdSettings("hub-a", ETCD.cluster().clientTls()));
    open.add(a);
    HubFixture.copyTree(dir.resolve("a/ca"), dir.resolve("b/ca"));
    HubFixture.copyTree(dir.resolve("a/admin"), dir.resolve("b/admin"));
    HubFixture b = new HubFixture(dir.resolve("b"), etcdSettings("hub-b", ETCD.cluster().clientTls()));
    open.add(b);
    return new HubFixture[] {a, b};
  }

  private Client etcdClient() {
    var tls = ETCD.cluster().clientTls();
    Client c = EtcdClients.connect(new EtcdSettings(ETCD.cluster().endpoints().stream().map(URI::create).toList(),
        tls.ca(), tls.cert(), tls.key(), prefix), Duration.ofSeconds(5));
    open.add(c);
    return c;
  }

  private long keysUnderPrefix(Client c) throws Exception {
    return c.getKVClient().get(ByteSequence.from(prefix, StandardCharsets.UTF_8),
        GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(5, TimeUnit.SECONDS).getCount();
  }

  private static long announce(HubFixture hub, TlsCredentials creds, String id, int n, long generation) {
    return RendezvousGrpc.newBlockingStub(hub.channel(creds)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record(id, n, generation)).build()).getRevision();
  }

  @Test
  void anAgentMovingToAnotherReplicaResumesWithWhatItMissedAndNoSnapshot() throws Exception {
    HubFixture[] r = twoReplicas();
    TlsCredentials east = r[0].enroll("east");
    TlsCredentials west = r[0].enroll("west");
    announce(r[0], east, "east", 1, 1);
    announce(r[0], west, "west", 2, 1);
    long resumeAt;
    String meshUid;
    try (WatchRecorder onA = new WatchRecorder(r[0].channel(east), 0, "")) {
      resumeAt = onA.awaitCaughtUp().getRevision();
      meshUid = onA.events.get(0).getHello().getMeshUid();
    }
    assertEquals(r[0].hub().membership().meshUid(), r[1].hub().membership().meshUid(), "one mesh UID everywhere");
    long missed = announce(r[1], west, "west", 2, 2); // while east is between replicas
    try (WatchRecorder onB = new WatchRecorder(r[1].channel(east), resumeAt, meshUid)) {
      WatchEvent upsert = onB.await(e -> e.hasClusterUpserted() && e.getRevision() == missed);
      assertEquals(2, upsert.getClusterUpserted().getRecord().getGeneration());
      onB.awaitCaughtUp();
      assertFalse(onB.events.get(0).getHello().getSnapshotFollows(), "resumed from the log, no snapshot");
      assertTrue(onB.ofCase(WatchEvent.EventCase.SNAPSHOT).isEmpty());
    }
  }

  @Test
  void aReplicaStartedLaterResumesFromEtcdHistoryAndGivesASnapshotOnlyBelowTheCompactionPoint() throws Exception {
    HubFixture a = new HubFixture(dir.resolve("a"), etcdSettings("hub-a", ETCD.cluster().clientTls()));
    open.add(a);
    TlsCredentials east = a.enroll("east");
    TlsCredentials west = a.enroll("west");
    announce(a, east, "east", 1, 1);
    announce(a, west, "west", 2, 1);
    long resumeAt;
    String meshUid;
    try (WatchRecorder onA = new WatchRecorder(a.channel(east), 0, "")) {
      resumeAt = onA.awaitCaughtUp().getRevision();
      meshUid = onA.events.get(0).getHello().getMeshUid();
    }
    long missed = announce(a, west, "west", 2, 2);
    HubFixture.copyTree(dir.resolve("a/ca"), dir.resolve("b/ca"));
    HubFixture.copyTree(dir.resolve("a/admin"), dir.resolve("b/admin"));
    HubFixture b = new HubFixture(dir.resolve("b"), etcdSettings("hub-b", ETCD.cluster().clientTls()));
    open.add(b);
    try (WatchRecorder onB = new WatchRecorder(b.channel(east), resumeAt, meshUid)) {
      onB.await(e -> e.hasClusterUpserted() && e.getRevision() == missed);
      onB.awaitCaughtUp();
      assertFalse(onB.events.get(0).getHello().getSnapshotFollows(), "history from etcd, no snapshot");
    }
    // Compact etcd past the agent's revision: a replica started now has no history that old.
    Client c = etcdClient();
    long head = c.getKVClient().get(ByteSequence.from(prefix, StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS)
        .getHeader().getRevision();
    c.getKVClient().compact(head).get(10, TimeUnit.SECONDS);
    HubFixture.copyTree(dir.resolve("a/ca"), dir.resolve("c/ca"));
    HubFixture.copyTree(dir.resolve("a/admin"), dir.resolve("c/admin"));
    HubFixture late = new HubFixture(dir.resolve("c"), etcdSettings("hub-c", ETCD.cluster().clientTls()));
    open.add(late);
    try (WatchRecorder onC = new WatchRecorder(late.channel(east), resumeAt, meshUid)) {
      onC.awaitCaughtUp();
      assertTrue(onC.events.get(0).getHello().getSnapshotFollows(), "below the compaction point: a snapshot");
      assertFalse(onC.ofCase(WatchEvent.EventCase.SNAPSHOT).isEmpty());
    }
  }

  @Test
  void generationsOnlyGrowWhenTwoReplicasTakeAnnouncesForOneClusterAtOnce() throws Exception {
    HubFixture[] r = twoReplicas();
    TlsCredentials east = r[0].enroll("east");
    int generations = 30;
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      Map<Long, Long> revisionByGeneration = new ConcurrentHashMap<>();
      List<Future<?>> calls = new ArrayList<>();
      for (int g = 1; g <= generations; g++) {
        long generation = g;
        HubFixture replica = r[g % 2];
        calls.add(pool.submit(() -> {
          try {
            revisionByGeneration.put(generation, announce(replica, east, "east", 1, generation));
          } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.getMessage());
          }
        }));
      }
      for (Future<?> f : calls) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertTrue(revisionByGeneration.containsKey((long) generations), "the highest generation is never refused");
      List<Long> byRevision = revisionByGeneration.entrySet().stream()
          .sorted(Map.Entry.comparingByValue()).map(Map.Entry::getKey).toList();
      assertEquals(byRevision.stream().sorted().toList(), byRevision,
          "accepted generations grow with their revisions: " + revisionByGeneration);
      for (HubFixture replica : r) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(
            () -> replica.hub().membership().cluster("east").orElseThrow().generation() == generations);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aJoinTokenUsedOnTwoReplicasAtOnceIsSpentOnce() throws Exception {
    HubFixture[] r = twoReplicas();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 5; round++) {
        String cluster = "race" + round;
        String token = r[0].createToken(cluster);
        CyclicBarrier together = new CyclicBarrier(2);
        List<Future<Status.Code>> outcomes = new ArrayList<>();
        for (HubFixture replica : r) {
          outcomes.add(pool.submit(() -> {
            KeyPair keys = Csrs.newKeyPair();
            byte[] csr = Csrs.create(keys, new SpiffeId(replica.ca().mesh(), Role.CLUSTER, cluster));
            together.await(10, TimeUnit.SECONDS);
            try {
              EnrollmentGrpc.newBlockingStub(replica.channel(null)).withDeadlineAfter(10, TimeUnit.SECONDS)
                  .enroll(EnrollRequest.newBuilder().setJoinToken(token).setCsrDer(ByteString.copyFrom(csr)).build());
              return Status.Code.OK;
            } catch (StatusRuntimeException e) {
              return e.getStatus().getCode();
            }
          }));
        }
        List<Status.Code> codes = new ArrayList<>();
        for (Future<Status.Code> f : outcomes) {
          codes.add(f.get(30, TimeUnit.SECONDS));
        }
        assertEquals(1, codes.stream().filter(c -> c == Status.Code.OK).count(), "round " + round + ": " + codes);
        assertEquals(1, codes.stream().filter(c -> c == Status.Code.UNAUTHENTICATED).count(), "round " + round);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aRevocationOnOneReplicaEndsTheClustersStreamsOnEveryReplicaWithinTwoSeconds() throws Exception {
    HubFixture[] r = twoReplicas();
    TlsCredentials west = r[0].enroll("west");
    announce(r[0], west, "west", 2, 1);
    try (WatchRecorder onB = new WatchRecorder(r[1].channel(west), 0, "");
         WatchRecorder onA = new WatchRecorder(r[0].channel(west), 0, "")) {
      onB.awaitCaughtUp();
      onA.awaitCaughtUp();
      long start = System.nanoTime();
      MeshAdminGrpc.newBlockingStub(r[0].channel(r[0].admin())).withDeadlineAfter(10, TimeUnit.SECONDS)
          .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("stolen").build());
      Status onOther = onB.awaitClosed(Duration.ofSeconds(2));
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertEquals(Status.Code.PERMISSION_DENIED, onOther.getCode(), onOther.toString());
      assertTrue(elapsedMs < 2000, "closed after " + elapsedMs + " ms");
      assertEquals(Status.Code.PERMISSION_DENIED, onA.awaitClosed(Duration.ofSeconds(2)).getCode());
    }
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> announce(r[1], west, "west", 2, 2));
    assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode(), refused.getMessage());
  }

  // ---- what replicas share besides membership: audit, last-seen, link reports ----------------

  /** Every audit event {@code hub} keeps after {@code since}, once {@code count} arrived (WatchAudit). */
  private static List<AuditEvent> audit(HubFixture hub, long since, int count) throws Exception {
    List<AuditEvent> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
    try {
      call.run(() -> MeshAdminGrpc.newStub(hub.channel(hub.admin())).watchAudit(
          WatchAuditRequest.newBuilder().setSinceSequence(since).build(), new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(AuditEvent e) {
              got.add(e);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          }));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> got.size() >= count);
      return List.copyOf(got);
    } finally {
      call.cancel(null);
    }
  }

  @Test
  void auditEventsOfEveryReplicaAreKeptInEtcdWithOneSequenceAndStreamedByEveryReplica() throws Exception {
    HubFixture[] r = twoReplicas();
    r[0].createToken("east");
    r[1].createToken("west");
    List<AuditEvent> onA = audit(r[0], 0, 2);
    List<AuditEvent> onB = audit(r[1], 0, 2);
    assertEquals(onA, onB, "both replicas keep the same events with the same sequences");
    assertEquals(List.of("token.created", "token.created"), onA.stream().map(AuditEvent::getAction).toList());
    assertTrue(onA.get(0).getSequence() < onA.get(1).getSequence());
    // A stream on B resumes after what it saw and gets an event recorded on A.
    long since = onB.get(1).getSequence();
    r[0].createToken("north");
    AuditEvent live = audit(r[1], since, 1).get(0);
    assertEquals("token.created", live.getAction());
    assertTrue(live.getSequence() > since);
    // A replica started later (a restart) knows the events from etcd.
    r[1].restart();
    assertEquals(3, audit(r[1], 0, 3).size());
  }

  @Test
  void lastSeenAndLinkReportsGivenToOneReplicaAreShownByTheOther() throws Exception {
    HubFixture[] r = twoReplicas();
    TlsCredentials east = r[0].enroll("east");
    announce(r[0], east, "east", 1, 1);
    RendezvousGrpc.newBlockingStub(r[0].channel(east)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .reportStatus(ReportStatusRequest.newBuilder()
            .setObservedAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_700_000_000))
            .addPeers(PeerLinkStatus.newBuilder().setPeerClusterId("west").setState(LinkState.LINK_STATE_UP)
                .setEndpoint("192.0.2.2:51820"))
            .build());
    var adminOnB = MeshAdminGrpc.newBlockingStub(r[1].channel(r[1].admin()));
    // Written within the presence flush interval (5 s).
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> adminOnB
        .withDeadlineAfter(5, TimeUnit.SECONDS).getMeshStatus(GetMeshStatusRequest.getDefaultInstance())
        .getLinksList().stream().anyMatch(l -> l.getFromClusterId().equals("east")
            && l.getToClusterId().equals("west") && l.getStatus().getState() == LinkState.LINK_STATE_UP));
    assertTrue(adminOnB.withDeadlineAfter(5, TimeUnit.SECONDS)
        .getCluster(GetClusterRequest.newBuilder().setClusterId("east").build()).hasLastSeen(),
        "last seen on A, shown by B");
  }

  @Test
  void heartbeatsAuditAndReportsDoNotMoveTheRevisionAgentsWatch() throws Exception {
    HubFixture[] r = twoReplicas();
    TlsCredentials east = r[0].enroll("east");
    long head = announce(r[0], east, "east", 1, 1);
    Client c = etcdClient();
    try (WatchRecorder watch = new WatchRecorder(r[1].channel(east), 0, "")) {
      assertEquals(head, watch.awaitCaughtUp().getRevision());
      RendezvousGrpc.newBlockingStub(r[0].channel(east)).withDeadlineAfter(10, TimeUnit.SECONDS)
          .reportStatus(ReportStatusRequest.newBuilder()
              .addPeers(PeerLinkStatus.newBuilder().setPeerClusterId("west").setState(LinkState.LINK_STATE_DOWN))
              .build());
      r[1].createToken("west"); // an audit event and a token: etcd's revision moves, the mesh does not
      // Both replicas saw east (A: report, B: its Watch stream) and wrote that once.
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(
          () -> presenceBytes(c, "~reports/east/hub-a") > 13 && presenceBytes(c, "~seen/east/hub-b") > 0);
      // Idle replicas write nothing: etcd's revision stands still over three heartbeat intervals.
      long etcdRevision = etcdRevision(c);
      org.awaitility.Awaitility.await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
          .until(() -> etcdRevision(c) == etcdRevision);
      assertTrue(etcdRevision > head + 1, "tokens, audit and presence were written: " + etcdRevision);
      for (HubFixture replica : r) {
        assertEquals(head, replica.hub().membership().durableRevision(), "watchers' head is the last mesh change");
      }
      assertTrue(watch.events.stream().allMatch(e -> e.getRevision() <= head), "no event past the mesh change");
    }
  }

  private int presenceBytes(Client c, String key) throws Exception {
    var kvs = c.getKVClient().get(ByteSequence.from(prefix + key, StandardCharsets.UTF_8))
        .get(5, TimeUnit.SECONDS).getKvs();
    return kvs.isEmpty() ? 0 : kvs.get(0).getValue().size();
  }

  private long etcdRevision(Client c) throws Exception {
    return c.getKVClient().get(ByteSequence.from(prefix + "meta/layout", StandardCharsets.UTF_8))
        .get(5, TimeUnit.SECONDS).getHeader().getRevision();
  }

  // ---- supervision of what jetcd does not: the lease, a watch on a hung member ---------------

  private static EtcdMembership etcdOf(HubFixture hub) {
    return (EtcdMembership) hub.hub().membership();
  }

  @Test
  void aReplicaWhoseLeaseIsGoneGrantsANewOneAndIsPresentAgain() throws Exception {
    HubFixture a = new HubFixture(dir.resolve("a"), etcdSettings("hub-a", ETCD.cluster().clientTls()));
    open.add(a);
    Client c = etcdClient();
    ByteSequence presence = ByteSequence.from(prefix + "~replicas/hub-a", StandardCharsets.UTF_8);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> lease(c, presence) != 0);
    long first = lease(c, presence);

    // What a keep-alive stream that ended silently leads to: the lease expires and its keys go.
    c.getLeaseClient().revoke(first).get(5, TimeUnit.SECONDS);
    assertEquals(0, lease(c, presence));

    long start = System.nanoTime();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> lease(c, presence) != 0);
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

  /**
   * Also: while the watch is stuck and then catching up, {@code GET /ready} answers 503 with the
   * reason, and 200 again only once the replica has applied the change written meanwhile.
   */
  @Test
  void aWatchOnAnEtcdMemberThatHangsIsReplacedAndChangesKeepArriving() throws Exception {
    EtcdCluster etcd = ETCD.cluster();
    double[] before = java.util.stream.IntStream.range(0, etcd.size()).mapToDouble(i -> watchers(etcd, i)).toArray();
    Map<String, String> settings = etcdSettings("hub-a", ETCD.cluster().clientTls());
    settings.put("metrics-listen", "127.0.0.1:0");
    HubFixture a = new HubFixture(dir.resolve("a"), settings);
    open.add(a);
    URI ready = URI.create("http://127.0.0.1:" + a.hub().metricsPort().orElseThrow() + "/ready");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> get(ready).statusCode() == 200);
    TlsCredentials east = a.enroll("east");
    int[] host = new int[] {-1};
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
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
    // A second replica that reaches etcd only through the other members writes the change.
    HubFixture.copyTree(dir.resolve("a/ca"), dir.resolve("w/ca"));
    HubFixture.copyTree(dir.resolve("a/admin"), dir.resolve("w/admin"));
    Map<String, String> writerSettings = etcdSettings("hub-w", ETCD.cluster().clientTls());
    writerSettings.put("etcd-endpoints", String.join(",", others));
    HubFixture writer = new HubFixture(dir.resolve("w"), writerSettings);
    open.add(writer);
    long stallsBefore = etcdOf(a).watchStalls();

    ReadyPoller poller = new ReadyPoller(ready, () -> a.hub().membership().cluster("east")
        .map(io.meshwire.hub.membership.ClusterRecord::generation).orElse(0L));
    etcd.suspend(hung);
    try (poller) {
      long start = System.nanoTime();
      long[] acknowledged = new long[2]; // generation, revision
      java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> {
        long g = generation.incrementAndGet(); // an attempt that timed out may still have been written
        acknowledged[1] = RendezvousGrpc.newBlockingStub(writer.channel(east)).withDeadlineAfter(3, TimeUnit.SECONDS)
            .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, g)).build()).getRevision();
        acknowledged[0] = g;
        return true;
      });
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> a.hub().membership().cluster("east")
          .filter(r -> r.generation() == acknowledged[0]).isPresent());
      long afterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(etcdOf(a).watchStalls() > stallsBefore, "the stall was detected by the replica, not by chance");
      assertEquals(acknowledged[1], a.hub().membership().durableRevision());
      System.out.printf("etcd member %d hung: change written at revision %d seen by the replica after %d ms%n",
          hung, acknowledged[1], afterMs);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> poller.last().status() == 200);
      List<ReadyPoller.Sample> samples = poller.samples();
      assertTrue(samples.stream().anyMatch(
          x -> x.status() == 503 && x.body().startsWith("not ready: catching up with etcd")),
          "503 while the watch was stuck: " + samples);
      // Ready again only with the change applied (the generation is read after the answer).
      int firstReadyAfter = -1;
      for (int i = samples.size() - 1; i > 0 && samples.get(i).status() == 200; i--) {
        firstReadyAfter = i;
      }
      assertEquals(acknowledged[0], samples.get(firstReadyAfter).generation(), "ready before caught up: " + samples);
    } finally {
      etcd.resume(hung);
    }
  }

  /** Polls {@code /ready} every 50 ms (for at most 60 s), with what the replica had applied just after each answer. */
  private static final class ReadyPoller implements AutoCloseable {
    record Sample(int status, String body, long generation) {}

    private final List<Sample> samples = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    ReadyPoller(URI ready, java.util.function.LongSupplier generation) {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      timer.scheduleWithFixedDelay(() -> {
        if (System.nanoTime() > until) {
          timer.shutdown();
          return;
        }
        try {
          var r = get(ready);
          samples.add(new Sample(r.statusCode(), r.body().strip(), generation.getAsLong()));
        } catch (Exception e) {
          samples.add(new Sample(-1, e.toString(), generation.getAsLong()));
        }
      }, 0, 50, TimeUnit.MILLISECONDS);
    }

    List<Sample> samples() {
      return List.copyOf(samples);
    }

    Sample last() {
      return samples.isEmpty() ? new Sample(-1, "", 0) : samples.get(samples.size() - 1);
    }

    @Override
    public void close() throws InterruptedException {
      timer.shutdownNow();
      timer.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** Watchers the member serves (etcd's own gauge); NaN when it does not answer. */
  private static double watchers(EtcdCluster etcd, int member) {
    return etcd.metric(member, "etcd_debugging_mvcc_watcher_total");
  }

  // ---- refusals at start: a message naming the problem, nothing written ----------------------

  private EtcdStartException refusedStart(Map<String, String> settings, Path data) {
    Map<String, String> all = new HashMap<>(settings);
    all.put("data-dir", data.toString());
    all.put("listen", "127.0.0.1:0");
    all.putIfAbsent("mesh", "test.mesh");
    return assertThrows(EtcdStartException.class,
        () -> HubServer.start(HubConfig.parse(all), InstantSource.system(), new SimpleMeterRegistry()).close());
  }

  @Test
  void wrongEtcdCertificatesAreRefusedAndNothingIsWritten() throws Exception {
    EtcdStartException e = refusedStart(etcdSettings("hub-a", ETCD.cluster().foreignClientTls()), dir.resolve("x"));
    assertTrue(e.getMessage().contains("TLS refused") || e.getMessage().contains("unreachable"), e.getMessage());
    assertTrue(e.getMessage().contains("--etcd-ca") || e.getMessage().contains("endpoints"), e.getMessage());
    assertEquals(0, keysUnderPrefix(etcdClient()));
    assertFalse(Files.exists(dir.resolve("x/ca")), "no CA created for a hub that does not start");
  }

  @Test
  void anUnreachableEtcdIsRefusedByName() throws Exception {
    Map<String, String> s = etcdSettings("hub-a", ETCD.cluster().clientTls());
    s.put("etcd-endpoints", "https://127.0.0.1:" + freePort());
    EtcdStartException e = refusedStart(s, dir.resolve("x"));
    assertTrue(e.getMessage().contains("etcd is unreachable"), e.getMessage());
  }

  @Test
  void aPrefixHoldingAnotherMeshsDataIsRefusedAndLeftAlone() throws Exception {
    HubFixture a = new HubFixture(dir.resolve("a"), etcdSettings("hub-a", ETCD.cluster().clientTls()));
    open.add(a);
    long before = keysUnderPrefix(etcdClient());
    Map<String, String> other = etcdSettings("hub-z", ETCD.cluster().clientTls());
    other.put("mesh", "other.mesh");
    EtcdStartException e = refusedStart(other, dir.resolve("z"));
    assertTrue(e.getMessage().contains("holds the data of mesh \"test.mesh\""), e.getMessage());
    // Same mesh name, another CA: refused too.
    EtcdStartException ca = refusedStart(etcdSettings("hub-y", ETCD.cluster().clientTls()), dir.resolve("y"));
    assertTrue(ca.getMessage().contains("another CA"), ca.getMessage());
    // Heartbeats of replica a may add revisions, not keys.
    assertEquals(before, keysUnderPrefix(etcdClient()));
  }

  @Test
  void aLayoutFromANewerVersionIsRefusedAndNothingIsWritten() throws Exception {
    Client c = etcdClient();
    c.getKVClient().put(ByteSequence.from(prefix + "meta/layout", StandardCharsets.UTF_8),
        ByteSequence.from("3", StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
    long revision = etcdRevision(c);
    EtcdStartException e = refusedStart(etcdSettings("hub-a", ETCD.cluster().clientTls()), dir.resolve("x"));
    assertTrue(e.getMessage().contains("data layout 3, written by a newer meshwire (this hub reads layouts 1 to 2)"),
        e.getMessage());
    assertEquals(1, keysUnderPrefix(c));
    assertEquals(revision, etcdRevision(c), "not one write, not even to the marker");
  }

  /**
   * Layout 2 added the peering rules: a prefix of layout 1 is marked 2 when a replica of this
   * version opens it, so that a replica of the older version refuses it from then on (the test
   * above) instead of ignoring the rules and connecting every pair. Its data stays as it was.
   */
  @Test
  void aLayoutOneIsMarkedTwoSoThatOlderReplicasRefuseIt() throws Exception {
    HubFixture a = new HubFixture(dir.resolve("a"), etcdSettings("hub-a", ETCD.cluster().clientTls()));
    open.add(a);
    TlsCredentials east = a.enroll("east");
    announce(a, east, "east", 1, 1);
    String meshUid = a.hub().membership().meshUid();
    Client c = etcdClient();
    ByteSequence marker = ByteSequence.from(prefix + "meta/layout", StandardCharsets.UTF_8);
    assertEquals("2", c.getKVClient().get(marker).get(5, TimeUnit.SECONDS).getKvs().get(0).getValue()
        .toString(StandardCharsets.UTF_8), "a new prefix is created at layout 2");
    // What a layout-1 hub left behind (a running replica reads the marker only when it starts).
    c.getKVClient().put(marker, ByteSequence.from("1", StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);

    a.restart();
    assertEquals("2", c.getKVClient().get(marker).get(5, TimeUnit.SECONDS).getKvs().get(0).getValue()
        .toString(StandardCharsets.UTF_8));
    assertEquals(meshUid, a.hub().membership().meshUid());
    // The restarted replica replays etcd's history: the cluster comes back with it.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> a.hub().membership().cluster("east").map(r -> r.generation() == 1).orElse(false));
  }

  @Test
  void keysThatAreNotMeshwiresAreRefused() throws Exception {
    Client c = etcdClient();
    c.getKVClient().put(ByteSequence.from(prefix + "someone/else", StandardCharsets.UTF_8),
        ByteSequence.from("x", StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
    EtcdStartException e = refusedStart(etcdSettings("hub-a", ETCD.cluster().clientTls()), dir.resolve("x"));
    assertTrue(e.getMessage().contains("no meshwire layout marker"), e.getMessage());
    assertEquals(1, keysUnderPrefix(c));
  }

  // ---- etcd failures ---------------------------------------------------------------------------

  @Test
  void replicasKeepSeeingChangesWhenEachEtcdMemberInTurnIsKilled() throws Exception {
    HubFixture[] r = twoReplicas();
    TlsCredentials east = r[0].enroll("east");
    EtcdCluster etcd = ETCD.cluster();
    long generation = 1;
    announce(r[1], east, "east", 1, generation);
    for (int round = 0; round < etcd.size(); round++) {
      // The leader first: the failure jetcd's watch does not come back from on its own.
      int victim = round == 0 ? etcd.awaitLeader(Duration.ofSeconds(10)) : (etcd.leader() + 1) % etcd.size();
      etcd.kill(victim);
      try {
        long g = ++generation;
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
            .until(() -> announce(r[1], east, "east", 1, g) > 0);
        // Replica a learns of it only through its one watch.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(
            () -> r[0].hub().membership().cluster("east").orElseThrow().generation() == g);
      } finally {
        etcd.restart(victim);
        etcd.awaitLeader(Duration.ofSeconds(30));
      }
    }
  }

  // ---- quorum ---------------------------------------------------------------------------------

  @Test
  void withoutQuorumWritesAreUnavailableSayingSoAndWatchStreamsStayOpen() throws Exception {
    HubFixture[] r = twoReplicas();
    TlsCredentials east = r[0].enroll("east");
    announce(r[0], east, "east", 1, 1);
    EtcdCluster etcd = ETCD.cluster();
    List<Integer> stopped = new ArrayList<>();
    try (WatchRecorder watch = new WatchRecorder(r[0].channel(east), 0, "")) {
      watch.awaitCaughtUp();
      for (int i = 0; i < etcd.size() && stopped.size() < 2; i++) {
        if (i != 0) { // keep member 0 (any one) running: it answers, without a leader
          etcd.stop(i);
          stopped.add(i);
        }
      }
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> announce(r[0], east, "east", 1, 2));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("etcd has no quorum"), e.getStatus().getDescription());
      // Past the partition threshold (6 s), the stream is still open: members answer, the mesh cannot change.
      assertThrows(java.util.concurrent.TimeoutException.class, () -> watch.closed.get(8, TimeUnit.SECONDS),
          "the watch stream stays open while etcd has no quorum");
    } finally {
      stopped.forEach(etcd::restart);
      etcd.awaitLeader(Duration.ofSeconds(30));
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
        .until(() -> announce(r[0], east, "east", 1, 3) > 0);
  }

  // ---- partition ------------------------------------------------------------------------------

  /**
   * Also: {@code GET /ready} on the metrics port answers 503 with the reason while the replica is
   * cut off and 200 once it is back; its watch, failing all along, is restarted with back-off and
   * logged as one failing state (one warning, one "restored" line with the count), not once per
   * attempt.
   */
  @Test
  void aReplicaThatReachesNoEtcdMemberStopsServingAndSendsItsStreamsElsewhere() throws Exception {
    Map<String, String> settings = etcdSettings("hub-a", ETCD.cluster().clientTls());
    settings.put("metrics-listen", "127.0.0.1:0");
    HubFixture a = new HubFixture(dir.resolve("a"), settings);
    open.add(a);
    URI ready = URI.create("http://127.0.0.1:" + a.hub().metricsPort().orElseThrow() + "/ready");
    // A fresh replica is ready once its watch is caught up; an earlier test may have just restarted
    // the member it reaches, so readiness is awaited (bounded), not assumed at the first instant.
    org.awaitility.Awaitility.await("ready after start").atMost(Duration.ofSeconds(30))
        .until(() -> get(ready), r -> r.statusCode() == 200);
    ch.qos.logback.classic.Logger membershipLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(io.meshwire.hub.etcd.EtcdMembership.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.start();
    membershipLog.addAppender(logs);
    long outageStart = 0;
    long outageMs = 0;
    long restartsBefore = 0;
    TlsCredentials east = a.enroll("east");
    announce(a, east, "east", 1, 1);
    var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(a.channel(a.admin()));
    io.grpc.health.v1.HealthCheckRequest anyService = io.grpc.health.v1.HealthCheckRequest.getDefaultInstance();
    assertEquals(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING,
        health.withDeadlineAfter(5, TimeUnit.SECONDS).check(anyService).getStatus());
    var replica = (io.meshwire.hub.etcd.EtcdMembership) a.hub().membership();
    org.awaitility.Awaitility.await("ready: connected and caught up").atMost(Duration.ofSeconds(30))
        .until(() -> replica.notReadyReason().isEmpty());
    EtcdCluster etcd = ETCD.cluster();
    List<Integer> stopped = new ArrayList<>();
    try (WatchRecorder watch = new WatchRecorder(a.channel(east), 0, "")) {
      watch.awaitCaughtUp();
      long start = System.nanoTime();
      outageStart = start;
      restartsBefore = replica.watchRestarts();
      for (int i = 0; i < etcd.size(); i++) { // every member gone: the replica is cut off from etcd
        etcd.stop(i);
        stopped.add(i);
      }
      Status ended = watch.awaitClosed(Duration.ofSeconds(30));
      long afterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertEquals(Status.Code.UNAVAILABLE, ended.getCode(), ended.toString());
      assertFalse(watch.ofCase(WatchEvent.EventCase.GOAWAY).isEmpty(), "the stream is told to go elsewhere");
      assertTrue(afterMs >= 5000, "not before the partition threshold (6 s): " + afterMs + " ms");
      assertEquals(io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING,
          health.withDeadlineAfter(5, TimeUnit.SECONDS).check(anyService).getStatus());
      assertTrue(replica.notReadyReason().orElse("").contains("partitioned from etcd"),
          replica.notReadyReason().toString());
      java.net.http.HttpResponse<String> notReady = get(ready);
      assertEquals(503, notReady.statusCode());
      assertTrue(notReady.body().startsWith("not ready: hub replica hub-a is partitioned from etcd"), notReady.body());
    } finally {
      stopped.forEach(etcd::restart);
      etcd.awaitLeader(Duration.ofSeconds(30));
      outageMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - outageStart);
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> get(ready).statusCode() == 200);
    assertEquals("ready\n", get(ready).body());
    // Each failing state of the watch is one warning, closed by one "restored" line once etcd answers.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
      List<String> lines = watchLines(logs);
      long failing = lines.stream().filter(l -> !l.startsWith("etcd watch restored")).count();
      return failing > 0 && lines.size() - failing >= failing;
    });
    membershipLog.detachAppender(logs);
    long restarts = replica.watchRestarts() - restartsBefore;
    List<String> watchWarnings = watchLines(logs).stream().filter(l -> !l.startsWith("etcd watch restored")).toList();
    long restored = watchLines(logs).size() - watchWarnings.size();
    // One warning per failing state, each closed by one "restored" line: the members stop one after
    // another, so the watch may fail over to a member that stops next (at most one state per member).
    assertTrue(!watchWarnings.isEmpty() && watchWarnings.size() <= etcd.size(), "warnings: " + watchWarnings);
    assertEquals(watchWarnings.size(), restored, "each failing state ends with one restored line: " + watchWarnings);
    // A restart every 200 ms (the old fixed delay) would be 5 a second; the back-off reaches 0..5 s.
    assertTrue(restarts >= 1 && restarts <= 3 + outageMs / 1000,
        restarts + " watch restarts in an outage of " + outageMs + " ms");
    System.out.printf("etcd outage %d ms: %d watch restarts, %d warning(s), %d log lines from the membership%n",
        outageMs, restarts, watchWarnings.size(), logs.list.size());
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(
        () -> health.withDeadlineAfter(5, TimeUnit.SECONDS).check(anyService).getStatus()
            == io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    try (WatchRecorder again = new WatchRecorder(a.channel(east), 0, "")) {
      again.awaitCaughtUp();
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> replica.notReadyReason().isEmpty());
  }

  /** The membership's warnings and "restored" lines about its watch, in order. */
  private static List<String> watchLines(
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs) {
    List<ch.qos.logback.classic.spi.ILoggingEvent> copy;
    synchronized (logs) { // the appender adds under its own monitor
      copy = new ArrayList<>(logs.list);
    }
    return copy.stream()
        .filter(e -> e.getFormattedMessage().startsWith("etcd watch restored")
            || (e.getLevel() == ch.qos.logback.classic.Level.WARN && e.getFormattedMessage().startsWith("etcd watch")))
        .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
  }

  private static java.net.http.HttpResponse<String> get(URI uri) throws Exception {
    try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
      return http.send(java.net.http.HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
