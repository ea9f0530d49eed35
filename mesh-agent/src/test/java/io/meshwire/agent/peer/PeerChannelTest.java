package io.meshwire.agent.peer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.peer.v1.PeerGrpc;
import io.meshwire.proto.peer.v1.ProbeRequest;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogHistory;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The peer channel over real TLS on 127.0.0.1: two peer servers, watchers in both directions. */
class PeerChannelTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final MeshCa ca = MeshCa.create("test", Duration.ofDays(30), InstantSource.system());
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final Backoff fast = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), RandomGenerator.getDefault());
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final Set<String> peers = ConcurrentHashMap.newKeySet();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
    scheduler.shutdownNow();
  }

  private TlsCredentials creds(String cluster) {
    IssuedCredential issued = ca.issue(new SpiffeId("test", Role.CLUSTER, cluster), Duration.ofDays(1));
    return TlsCredentials.of(issued);
  }

  private PeerServer server(String cluster, CatalogHistory history, int port) throws Exception {
    PeerServer s = PeerServer.start(new HostPort("127.0.0.1", port), new RenewableKeyManager(creds(cluster)), cluster,
        history, peers::contains, Duration.ofMillis(200), InstantSource.system(), meters);
    closing.add(s);
    return s;
  }

  private PeerCatalogWatcher watcher(String self, String peer, int port, Map<String, Catalog> sink) {
    return watcher(new RenewableKeyManager(creds(self)), peer, port, sink);
  }

  private static ExportedService web(String ns, String address) {
    return new ExportedService(ns, "web", ServiceType.CLUSTER_SET_IP, List.of(ServicePort.of("http", "TCP", 80)),
        List.of(Endpoint.ready(Cidr.parseAddress(address), Map.of("http", 8080))), T0);
  }

  @Test
  void catalogsFlowBothWaysAndResumeAfterReconnectWithoutAFullCatalog() throws Exception {
    peers.addAll(Set.of("a", "b"));
    CatalogHistory historyA = new CatalogHistory(Catalog.empty("ua").next(List.of(web("shop", "10.1.0.1"))), 100);
    CatalogHistory historyB = new CatalogHistory(Catalog.empty("ub").next(List.of(web("blog", "10.2.0.1"))), 100);
    server("a", historyA, 0);
    PeerServer serverB = server("b", historyB, 0);
    int portB = serverB.port();
    Map<String, Catalog> atA = new ConcurrentHashMap<>();
    Map<String, Catalog> atB = new ConcurrentHashMap<>();
    PeerCatalogWatcher aWatchesB = watcher("a", "b", portB, atA);
    // b watches a
    PeerServer serverA2 = closingServerPort(historyA);
    watcher("b", "a", serverA2.port(), atB);

    await().atMost(Duration.ofSeconds(10)).until(() -> atA.containsKey("b") && atB.containsKey("a"));
    assertEquals(historyB.latest(), atA.get("b"));
    assertEquals(historyA.latest(), atB.get("a"));

    // Live change.
    historyB.record(historyB.latest().next(List.of(web("blog", "10.2.0.1"), web("shop", "10.2.0.7"))));
    await().atMost(Duration.ofSeconds(10)).until(() -> atA.get("b").equals(historyB.latest()));
    assertEquals(1, aWatchesB.fullCatalogs());
    assertEquals(1, aWatchesB.changesApplied());

    // b's server goes away; b changes meanwhile; b comes back on the same port.
    serverB.close();
    historyB.record(historyB.latest().next(List.of(web("shop", "10.2.0.7"))));
    server("b", historyB, portB);
    await().atMost(Duration.ofSeconds(15)).until(() -> atA.get("b").equals(historyB.latest()));
    assertEquals(1, aWatchesB.fullCatalogs(), "resumed from its revision: no full catalog again");
    assertEquals(2, aWatchesB.changesApplied());
  }

  @Test
  void aWatcherReconnectsWithTheCertificateItWasRenewedTo() throws Exception {
    peers.addAll(Set.of("a", "b"));
    // b's server judges certificates by its own clock, which the test moves past a's first certificate.
    AtomicReference<Instant> serverTime = new AtomicReference<>(Instant.now());
    InstantSource serverClock = serverTime::get;
    CatalogHistory historyB = new CatalogHistory(Catalog.empty("ub").next(List.of(web("shop", "10.2.0.1"))), 100);
    PeerServer serverB = serverWithClock(historyB, 0, serverClock);
    int portB = serverB.port();
    RenewableKeyManager keysA = new RenewableKeyManager(creds("a")); // valid one day
    Map<String, Catalog> atA = new ConcurrentHashMap<>();
    PeerCatalogWatcher renewedWatcher = watcher(keysA, "b", portB, atA);
    await().atMost(Duration.ofSeconds(10)).until(() -> atA.containsKey("b"));

    IssuedCredential longer = ca.issue(new SpiffeId("test", Role.CLUSTER, "a"), Duration.ofDays(10));
    keysA.use(TlsCredentials.of(longer));
    // b restarts two days later: a's first certificate has expired in its eyes, and the old
    // connection (and any TLS session to resume) is gone.
    serverB.close();
    historyB.record(historyB.latest().next(List.of(web("shop", "10.2.0.7"))));
    serverTime.set(Instant.now().plus(Duration.ofDays(2)));
    serverWithClock(historyB, portB, serverClock);

    await().atMost(Duration.ofSeconds(15)).until(() -> atA.get("b").equals(historyB.latest()));
    assertEquals(1, renewedWatcher.fullCatalogs(), "the same watcher, resumed");
    // A watcher still holding the first certificate is refused by b now.
    Map<String, Catalog> stale = new ConcurrentHashMap<>();
    watcher(new RenewableKeyManager(creds("a")), "b", portB, stale);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(stale::isEmpty);
  }

  private PeerServer serverWithClock(CatalogHistory history, int port, InstantSource clock) throws Exception {
    PeerServer s = PeerServer.start(new HostPort("127.0.0.1", port), new RenewableKeyManager(creds("b")), "b", history,
        peers::contains, Duration.ofMillis(200), clock, meters);
    closing.add(s);
    return s;
  }

  private PeerCatalogWatcher watcher(RenewableKeyManager keys, String peer, int port, Map<String, Catalog> sink) {
    PeerCatalogWatcher w = new PeerCatalogWatcher(peer, new HostPort("127.0.0.1", port), Optional.empty(), keys,
        InstantSource.system(),
        fast, scheduler, CatalogLimits.defaults(), meters, Optional.empty(), sink::put);
    closing.add(w);
    w.start();
    return w;
  }

  private PeerServer closingServerPort(CatalogHistory history) throws Exception {
    return server("a", history, 0);
  }

  @Test
  void aClusterThatIsNotACurrentPeerIsRefusedCountedEachTimeAndLoggedOnce() throws Exception {
    peers.add("a");
    PeerServer b = server("b", new CatalogHistory(Catalog.empty("ub"), 10), 0);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", b.port())
        .sslContext(PeerTls.client(new RenewableKeyManager(creds("mallory")), "b", InstantSource.system())).build();
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
        .getLogger(PeerAuthInterceptor.class);
    var logs = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    logs.start();
    logger.addAppender(logs);
    try {
      for (int i = 0; i < 3; i++) {
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
            () -> PeerGrpc.newBlockingStub(channel).probe(ProbeRequest.getDefaultInstance()));
        assertEquals(io.grpc.Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
      }
      assertEquals(3.0, meters.counter("meshwire.agent.peer.auth.failures", "reason", "not_a_peer").count());
      assertEquals(1, logs.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.INFO).count(),
          logs.list.toString());
      peers.add("mallory");
      assertEquals("b", PeerGrpc.newBlockingStub(channel).probe(ProbeRequest.getDefaultInstance()).getClusterId());
      peers.remove("mallory"); // removed again: refused, and logged again
      org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> PeerGrpc.newBlockingStub(channel).probe(ProbeRequest.getDefaultInstance()));
      assertEquals(2, logs.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.INFO).count());
    } finally {
      logger.detachAppender(logs);
      channel.shutdownNow();
    }
  }

  @Test
  void aServerPresentingAnotherClustersIdentityIsRefused() throws Exception {
    peers.add("a");
    // c answers at the address where a expects b.
    PeerServer impostor = server("c", new CatalogHistory(Catalog.empty("uc").next(List.of(web("shop", "10.3.0.1"))), 10), 0);
    Map<String, Catalog> atA = new ConcurrentHashMap<>();
    watcher("a", "b", impostor.port(), atA);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", impostor.port())
        .sslContext(PeerTls.client(new RenewableKeyManager(creds("a")), "b", InstantSource.system())).build();
    try {
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> PeerGrpc.newBlockingStub(channel).probe(ProbeRequest.getDefaultInstance()));
      assertEquals(io.grpc.Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    } finally {
      channel.shutdownNow();
    }
    assertTrue(atA.isEmpty(), "nothing accepted from the impostor");
  }

  @Test
  void anOversizedCatalogIsRejectedAndTheLastGoodOneKept() throws Exception {
    peers.addAll(Set.of("a", "b"));
    CatalogHistory historyB = new CatalogHistory(Catalog.empty("ub").next(List.of(web("shop", "10.2.0.1"))), 100);
    PeerServer b = server("b", historyB, 0);
    Map<String, Catalog> atA = new ConcurrentHashMap<>();
    PeerCatalogWatcher w = watcher("a", "b", b.port(), atA);
    await().atMost(Duration.ofSeconds(10)).until(() -> atA.containsKey("b"));
    Catalog good = atA.get("b");
    List<Endpoint> tooMany = new ArrayList<>();
    for (int i = 0; i < 1001; i++) {
      tooMany.add(Endpoint.ready(Cidr.parseAddress("10.2." + (i / 200) + "." + (i % 200 + 1)), Map.of("http", 8080)));
    }
    historyB.record(historyB.latest().next(List.of(web("shop", "10.2.0.1").withEndpoints(tooMany))));
    await().atMost(Duration.ofSeconds(10))
        .until(() -> meters.find("meshwire.agent.peer.catalog.rejected").counter() != null
            && meters.find("meshwire.agent.peer.catalog.rejected").counter().count() >= 1);
    assertEquals(good, atA.get("b"));
    assertEquals(good, w.current().orElseThrow());
  }
}
