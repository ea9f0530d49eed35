package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.meshwire.certs.Csrs;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.CreateJoinTokenRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import io.meshwire.netlab.etcd.EtcdCluster;
import io.meshwire.testsupport.etcd.EtcdClusterExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos with processes: three hub replicas (child JVMs, {@code store=etcd}) on a real 3-member
 * etcd cluster, 50 watching agents spread over them and a writer announcing through random
 * replicas. A replica is SIGKILLed, then etcd's leader, then etcd loses quorum and gets it back.
 * A history checker holds every agent to what the writer had acknowledged.
 */
class EtcdChaosIT {

  @RegisterExtension static final EtcdClusterExtension ETCD = new EtcdClusterExtension(3);

  private static final int REPLICAS = 3;
  private static final int AGENTS = 50;
  private static final int WRITTEN_CLUSTERS = 10;

  @TempDir Path dir;
  private final List<Process> hubs = new ArrayList<>();
  private final List<AutoCloseable> open = new ArrayList<>();
  private final ScheduledExecutorService reconnects = Executors.newScheduledThreadPool(2);
  /** The last lines each hub replica printed, by name: printed when the test fails (nothing else keeps them). */
  private final Map<String, java.util.Deque<String>> hubOutput = new ConcurrentHashMap<>();
  private static final int KEPT_LINES = 150;

  @RegisterExtension
  final org.junit.jupiter.api.extension.TestWatcher printHubOutputOnFailure =
      new org.junit.jupiter.api.extension.TestWatcher() {
        @Override
        public void testFailed(org.junit.jupiter.api.extension.ExtensionContext context, Throwable cause) {
          hubOutput.forEach((name, lines) -> {
            System.out.println("---- last " + KEPT_LINES + " lines of " + name + " ----");
            synchronized (lines) {
              lines.forEach(System.out::println);
            }
          });
        }
      };

  @AfterEach
  void cleanUp() throws Exception {
    reconnects.shutdownNow();
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    for (Process p : hubs) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void agentsFailOverWithoutSnapshotsAndSeeEveryAcknowledgedWriteThroughReplicaAndEtcdFailures() throws Exception {
    EtcdCluster etcd = ETCD.cluster();
    String prefix = "/chaos-" + System.nanoTime() + "/";
    int[] ports = new int[REPLICAS];
    HubFixture.Client[] clients = new HubFixture.Client[REPLICAS];
    for (int r = 0; r < REPLICAS; r++) {
      Path data = dir.resolve("hub" + r);
      if (r > 0) { // replicas mount the CA (and admin credential) the first one created
        HubFixture.copyTree(dir.resolve("hub0/ca"), data.resolve("ca"));
        HubFixture.copyTree(dir.resolve("hub0/admin"), data.resolve("admin"));
      }
      ports[r] = startHub(data, etcd, prefix, "hub-" + r);
      clients[r] = HubFixture.client(data, ports[r]);
      open.add(clients[r]);
    }

    // Enroll the clusters through the replicas (tokens and certificates are etcd transactions).
    MeshCa caView = MeshCa.load(dir.resolve("hub0/ca"), InstantSource.system());
    TlsCredentials admin = TlsCredentials.load(dir.resolve("hub0/admin"), "admin");
    List<Agent> agents = new ArrayList<>();
    for (int i = 0; i < AGENTS; i++) {
      TlsCredentials creds = enroll(clients[i % REPLICAS], admin, caView, "c" + i);
      agents.add(new Agent("c" + i, creds, clients, i % REPLICAS));
    }
    agents.forEach(Agent::connect);
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> agents.stream().allMatch(a -> a.caughtUps.get() > 0));

    Writer writer = new Writer(agents.subList(0, WRITTEN_CLUSTERS), clients);
    Thread writing = Thread.ofPlatform().name("chaos-writer").start(writer);
    try {
      writer.awaitMoreAcks(50);

      // 1. SIGKILL a replica: its agents go to the next one in their list and resume from the log.
      int victim = 1;
      List<Agent> moved = agents.stream().filter(a -> a.replica == victim).toList();
      long killedAt = System.nanoTime();
      hubs.get(victim).destroyForcibly();
      assertTrue(hubs.get(victim).waitFor(10, TimeUnit.SECONDS));
      Awaitility.await().atMost(Duration.ofSeconds(15)).until(
          () -> moved.stream().allMatch(a -> a.lastCaughtUpNanos > killedAt));
      List<Long> failoverMs = moved.stream()
          .map(a -> TimeUnit.NANOSECONDS.toMillis(a.lastCaughtUpNanos - killedAt)).sorted().toList();
      long medianMs = failoverMs.get(failoverMs.size() / 2);
      long maxMs = failoverMs.get(failoverMs.size() - 1);
      System.out.printf("chaos: replica killed, agents=%d caught-up-elsewhere median_ms=%d max_ms=%d%n",
          moved.size(), medianMs, maxMs);
      assertTrue(maxMs < 5000, "agents of the killed replica caught up elsewhere after " + failoverMs + " ms");
      writer.awaitMoreAcks(50);

      // 2. SIGKILL etcd's leader; writes go on once a new one is elected.
      int leader = etcd.awaitLeader(Duration.ofSeconds(10));
      long leaderKilledAt = System.nanoTime();
      etcd.kill(leader);
      writer.awaitMoreAcks(20);
      System.out.printf("chaos: etcd leader killed, writes acknowledged again after %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leaderKilledAt));
      etcd.restart(leader);
      etcd.awaitLeader(Duration.ofSeconds(30));

      // 3. Stop 2 of 3 members: no quorum, writes fail; bring them back, writes go on.
      List<Integer> stopped = List.of((leader + 1) % etcd.size(), (leader + 2) % etcd.size());
      int failuresBefore = writer.failures.get();
      stopped.forEach(etcd::stop);
      try {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> writer.failures.get() >= failuresBefore + 3);
      } finally {
        stopped.forEach(etcd::restart);
      }
      etcd.awaitLeader(Duration.ofSeconds(30));
      long quorumBackAt = System.nanoTime();
      writer.awaitMoreAcks(20);
      System.out.printf("chaos: quorum back, writes acknowledged again after %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - quorumBackAt));
    } finally {
      writer.stop.set(true);
      writing.join(TimeUnit.SECONDS.toMillis(20));
    }

    // History checker: every agent reaches every acknowledged write, in generation order, no gaps.
    Map<String, Long> acked = Map.copyOf(writer.acked);
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(
        () -> agents.stream().allMatch(a -> acked.entrySet().stream()
            .allMatch(w -> a.appliedGeneration(w.getKey()) >= w.getValue())));
    int applied = 0;
    for (Agent a : agents) {
      assertEquals(List.of(), a.violations, a.id + " applied out of order or with gaps");
      assertEquals(0, a.snapshotsAfterFirst.get(), a.id + " was served a snapshot after its first connection");
      applied += a.appliedCount();
    }
    System.out.printf("chaos: acknowledged writes=%d failed attempts=%d, applied by agents=%d, snapshots after first=0%n",
        writer.acks.get(), writer.failures.get(), applied);
  }

  // ---- hub processes --------------------------------------------------------------------------

  private int startHub(Path data, EtcdCluster etcd, String prefix, String name) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    var tls = etcd.clientTls();
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp",
        System.getProperty("java.class.path"), HubProcessMain.class.getName(), data.toString(), String.valueOf(port),
        "store=etcd", "etcd-endpoints=" + String.join(",", etcd.endpoints()), "etcd-ca=" + tls.ca(),
        "etcd-cert=" + tls.cert(), "etcd-key=" + tls.key(), "etcd-prefix=" + prefix, "hub-name=" + name)
        .redirectErrorStream(true).start();
    hubs.add(p);
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
    StringBuilder seen = new StringBuilder();
    String line;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while ((line = out.readLine()) != null && !line.startsWith("READY") && System.nanoTime() < deadline) {
      seen.append(line).append('\n');
    }
    if (line == null || !line.startsWith("READY")) {
      throw new IllegalStateException(name + " did not start:\n" + seen);
    }
    java.util.Deque<String> kept = new java.util.ArrayDeque<>();
    hubOutput.put(name, kept);
    // Keeps draining its output (a full pipe would stall it), the last lines kept for a failure.
    Thread.ofVirtual().start(() -> out.lines().forEach(l -> {
      synchronized (kept) {
        if (kept.size() == KEPT_LINES) {
          kept.removeFirst();
        }
        kept.addLast(l);
      }
    }));
    return port;
  }

  private static TlsCredentials enroll(HubFixture.Client hub, TlsCredentials admin, MeshCa ca, String clusterId) {
    String token = MeshAdminGrpc.newBlockingStub(hub.channel(admin)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .createJoinToken(CreateJoinTokenRequest.newBuilder().setClusterId(clusterId).build()).getToken();
    KeyPair keys = Csrs.newKeyPair();
    byte[] csr = Csrs.create(keys, new SpiffeId(ca.mesh(), Role.CLUSTER, clusterId));
    var issued = EnrollmentGrpc.newBlockingStub(hub.channel(null)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .enroll(EnrollRequest.newBuilder().setJoinToken(token).setCsrDer(ByteString.copyFrom(csr)).build())
        .getCertificate();
    X509Certificate leaf = Pem.certificateFromDer(issued.getCertificateChainDer(0).toByteArray(), "enroll response");
    return new TlsCredentials(keys.getPrivate(), List.of(leaf), List.of(ca.certificate()));
  }

  // ---- the agents' side -------------------------------------------------------------------------

  /**
   * A watching agent: resumes from its last revision and mesh UID on the next replica in its list
   * after a jittered pause whenever its stream ends, and records what it applied per cluster.
   */
  private final class Agent {
    final String id;
    final TlsCredentials creds;
    final HubFixture.Client[] hubs;
    final ManagedChannel[] channels = new ManagedChannel[REPLICAS];
    volatile int replica;
    volatile long revision;
    volatile String meshUid = "";
    volatile long lastCaughtUpNanos;
    final AtomicInteger caughtUps = new AtomicInteger();
    final AtomicInteger snapshotsAfterFirst = new AtomicInteger();
    final Map<String, List<Long>> applied = new ConcurrentHashMap<>();
    final List<String> violations = new CopyOnWriteArrayList<>();

    Agent(String id, TlsCredentials creds, HubFixture.Client[] hubs, int replica) {
      this.id = id;
      this.creds = creds;
      this.hubs = hubs;
      this.replica = replica;
    }

    synchronized void connect() {
      int r = replica;
      if (channels[r] == null) {
        channels[r] = hubs[r].channel(creds);
      }
      RendezvousGrpc.newStub(channels[r]).watch(
          WatchRequest.newBuilder().setSinceRevision(revision).setMeshUid(meshUid).build(),
          new StreamObserver<>() {
            @Override
            public void onNext(WatchEvent e) {
              apply(e);
            }

            @Override
            public void onError(Throwable t) {
              moveOn();
            }

            @Override
            public void onCompleted() {
              moveOn();
            }
          });
    }

    private void apply(WatchEvent e) {
      switch (e.getEventCase()) {
        case HELLO -> {
          if (e.getHello().getSnapshotFollows() && caughtUps.get() > 0) {
            snapshotsAfterFirst.incrementAndGet();
          }
          meshUid = e.getHello().getMeshUid();
        }
        case CLUSTER_UPSERTED -> {
          var rec = e.getClusterUpserted().getRecord();
          List<Long> gens = applied.computeIfAbsent(rec.getClusterId(), k -> new CopyOnWriteArrayList<>());
          long previous = gens.isEmpty() ? 0 : gens.get(gens.size() - 1);
          if (rec.getGeneration() != previous + 1) {
            violations.add(rec.getClusterId() + ": generation " + rec.getGeneration() + " after " + previous
                + " at revision " + e.getRevision());
          }
          gens.add(rec.getGeneration());
        }
        case CAUGHT_UP -> {
          lastCaughtUpNanos = System.nanoTime();
          caughtUps.incrementAndGet();
        }
        default -> { }
      }
      if (e.getRevision() > revision) {
        revision = e.getRevision();
      }
    }

    private void moveOn() {
      replica = (replica + 1) % REPLICAS;
      if (!reconnects.isShutdown()) {
        long jitterMs = 50 + ThreadLocalRandom.current().nextLong(250);
        reconnects.schedule(this::connect, jitterMs, TimeUnit.MILLISECONDS);
      }
    }

    long appliedGeneration(String cluster) {
      List<Long> gens = applied.getOrDefault(cluster, List.of());
      return gens.isEmpty() ? 0 : gens.get(gens.size() - 1);
    }

    int appliedCount() {
      return applied.values().stream().mapToInt(List::size).sum();
    }
  }

  /**
   * Announces the next generation of each written cluster in turn through a random replica. A
   * failed attempt is retried with the same generation; FAILED_PRECONDITION on a retry means the
   * failed attempt had committed.
   */
  private static final class Writer implements Runnable {
    final List<Agent> clusters;
    final HubFixture.Client[] hubs;
    final Map<String, Long> acked = new ConcurrentHashMap<>();
    final AtomicInteger acks = new AtomicInteger();
    final AtomicInteger failures = new AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();

    Writer(List<Agent> clusters, HubFixture.Client[] hubs) {
      this.clusters = clusters;
      this.hubs = hubs;
    }

    @Override
    public void run() {
      Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
      for (int i = 0; !stop.get() && i < 1_000_000; i++) {
        Agent c = clusters.get(i % clusters.size());
        long generation = acked.getOrDefault(c.id, 0L) + 1;
        int r = ThreadLocalRandom.current().nextInt(hubs.length);
        ManagedChannel ch = channels.computeIfAbsent(c.id + "@" + r, k -> hubs[r].channel(c.creds));
        try {
          RendezvousGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
              .announce(AnnounceRequest.newBuilder()
                  .setRecord(HubFixture.record(c.id, Integer.parseInt(c.id.substring(1)) + 1, generation)).build());
          acked.put(c.id, generation);
          acks.incrementAndGet();
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
            acked.put(c.id, generation); // an earlier attempt that reported failure had committed
          } else {
            failures.incrementAndGet();
          }
        }
      }
    }

    void awaitMoreAcks(int more) {
      int target = acks.get() + more;
      Awaitility.await().atMost(Duration.ofSeconds(40)).until(() -> acks.get() >= target);
    }
  }
}
