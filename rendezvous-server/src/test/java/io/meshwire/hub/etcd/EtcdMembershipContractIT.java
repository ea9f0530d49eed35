package io.meshwire.hub.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.etcd.jetcd.Client;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.log.MembershipContract;
import io.meshwire.hub.policy.PeeringDefault;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.netlab.etcd.EtcdCluster;
import io.meshwire.testsupport.etcd.EtcdClusterExtension;
import java.net.URI;
import java.time.InstantSource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The membership contract on a real 3-member etcd cluster over mutual TLS, one fresh prefix per test. */
class EtcdMembershipContractIT extends MembershipContract {

  @RegisterExtension static final EtcdClusterExtension ETCD = new EtcdClusterExtension(3);

  private Client client;
  private ScheduledExecutorService scheduler;
  private EtcdSettings settings;

  @Override
  protected Membership open() {
    EtcdCluster etcd = ETCD.cluster();
    settings = settings(etcd, "/contract-" + UUID.randomUUID() + "/");
    client = EtcdClients.connect(settings, java.time.Duration.ofSeconds(5));
    scheduler = Executors.newScheduledThreadPool(2);
    return replica("replica-a", PeeringDefault.ALLOW);
  }

  /** Another replica on the same prefix (and client), started with {@code fallback} as its --default-peering. */
  private EtcdMembership replica(String name, PeeringDefault fallback) {
    return EtcdMembership.open(client, settings, "meshwire", "ca-fingerprint", new ProtoEventCodec(),
        InstantSource.system(), EtcdMembership.Options.defaults(name).withDefaultPeering(fallback), scheduler, Map.of());
  }

  @Test
  void aReplicaStartedWithAnotherDefaultPeeringMakesItTheMeshsAtOneRevisionOnEveryReplica() throws Exception {
    upsert("east", 1, 1);
    upsert("west", 2, 1);
    long before = membership.durableRevision();
    try (EtcdMembership deny = replica("replica-b", PeeringDefault.DENY)) {
      assertEquals(PeeringDefault.DENY, deny.peering().fallback(), "written and applied before open returns");
      Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> membership.peering().fallback() == PeeringDefault.DENY);
      assertEquals(Map.of("east", List.of("-west"), "west", List.of("-east")), deltasAfter(before));
      assertEquals(Map.of(), membership.image().peering().peersOf("east", List.of("east", "west")));
      // A replica started with the mesh's setting writes nothing.
      long written = defaultKeyRevision();
      try (EtcdMembership same = replica("replica-c", PeeringDefault.DENY)) {
        assertEquals(written, defaultKeyRevision());
      }
    }
  }

  @Test
  void anAnnounceEtcdDidNotAnswerInTimeIsAcknowledgedOnceEtcdCommitsItWrittenOnce() throws Exception {
    EtcdCluster etcd = ETCD.cluster();
    // A 2 s call timeout; partitioned only after 30 s, so the replica keeps serving meanwhile.
    EtcdMembership.Options patience = new EtcdMembership.Options(100_000, Duration.ofSeconds(2),
        Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(30), Duration.ofSeconds(10), "replica-p");
    try (EtcdMembership replica = EtcdMembership.open(client, settings, "meshwire", "ca-fingerprint",
        new ProtoEventCodec(), InstantSource.system(), patience, scheduler, Map.of())) {
      java.util.concurrent.CompletableFuture<Long> written;
      List<Integer> suspended = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < etcd.size(); i++) { // every member hangs: the transaction gets no answer
          etcd.suspend(i);
          suspended.add(i);
        }
        written = replica.upsert(record("east", 1, 1));
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> replica.announceTimeouts() >= 1);
      } finally {
        suspended.forEach(etcd::resume);
      }
      long revision = written.get(15, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(1, replica.cluster("east").orElseThrow().generation());
      assertEquals(revision, replica.cluster("east").orElseThrow().revision());
      var stored = client.getKVClient().get(io.etcd.jetcd.ByteSequence.from(settings.prefix()
          + "members/clusters/east", java.nio.charset.StandardCharsets.UTF_8)).get(5, java.util.concurrent.TimeUnit.SECONDS)
          .getKvs().get(0);
      assertEquals(1, stored.getVersion(), "the record was written once, not once per attempt");
      assertEquals(revision, stored.getModRevision());
    }
  }

  private long defaultKeyRevision() throws Exception {
    return client.getKVClient().get(io.etcd.jetcd.ByteSequence.from(settings.prefix() + "members/peering/default",
        java.nio.charset.StandardCharsets.UTF_8)).get(5, java.util.concurrent.TimeUnit.SECONDS).getKvs().get(0)
        .getModRevision();
  }

  static EtcdSettings settings(EtcdCluster etcd, String prefix) {
    var tls = etcd.clientTls();
    return new EtcdSettings(etcd.endpoints().stream().map(URI::create).toList(), tls.ca(), tls.cert(), tls.key(),
        prefix);
  }

  @AfterEach
  void closeClient() {
    membership.close();
    membership = null;
    scheduler.shutdownNow();
    client.close();
  }
}
