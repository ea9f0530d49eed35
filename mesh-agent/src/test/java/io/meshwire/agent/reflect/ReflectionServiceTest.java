package io.meshwire.agent.reflect;

import static io.meshwire.reflection.kube.KubeObjects.endpoint;
import static io.meshwire.reflection.kube.KubeObjects.service;
import static io.meshwire.reflection.kube.KubeObjects.slice;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.generic.options.ListOptions;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.certs.FakeClock;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.peer.v1.PeerGrpc;
import io.meshwire.proto.peer.v1.ProbeRequest;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceType;
import io.meshwire.reflection.export.KubeExportWatcher;
import io.meshwire.reflection.imports.KubeImportApi;
import io.meshwire.reflection.imports.ServiceImporter;
import io.meshwire.reflection.kube.FakeApiServer;
import io.meshwire.reflection.kube.KubeApis;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.V1alpha1ServiceExport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two in-process reflection services, "a" (pods 10.1.0.0/16) and "b" (pods 10.2.0.0/16, sees a's
 * pods as 10.201.0.0/16), each on its own fake API server, talking over the real peer channel
 * (mutual TLS on certificates of one mesh CA, 127.0.0.1). The agent state is a plain reference.
 * Reflection's own waits (startup grace, resync, CRD re-checks, catalog writes) run on a fake
 * clock the tests move ({@link ManualDelays}); the network and the API servers run in real time.
 */
class ReflectionServiceTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final MeshCa ca = MeshCa.create("test", Duration.ofDays(30), InstantSource.system());
  private static final Duration RESYNC = Duration.ofMillis(300);

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  // Starts now: the peer channel checks certificates (issued in real time) against it.
  private final FakeClock clock = new FakeClock(Instant.now());
  private final ManualDelays delays = new ManualDelays(clock);
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  private TlsCredentials creds(String cluster) {
    IssuedCredential issued = ca.issue(new SpiffeId("test", Role.CLUSTER, cluster), Duration.ofDays(1));
    return TlsCredentials.of(issued);
  }

  private ReflectionService start(String cluster, String podCidr, ApiClient client, AtomicReference<AgentState> state) {
    return start(cluster, podCidr, client, state, Duration.ofSeconds(60));
  }

  private ReflectionService start(String cluster, String podCidr, ApiClient client, AtomicReference<AgentState> state,
      Duration startupGrace) {
    return start(cluster, podCidr, client, state, startupGrace, Optional.empty());
  }

  private ReflectionService start(String cluster, String podCidr, ApiClient client, AtomicReference<AgentState> state,
      Duration startupGrace, Optional<Path> stateDir) {
    ReflectionService.Settings settings = new ReflectionService.Settings(cluster, new HostPort("127.0.0.1", 0),
        List.of(Cidr.parse(podCidr)), startupGrace, RESYNC, Duration.ofSeconds(1),
        new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), RandomGenerator.getDefault()),
        new KubeExportWatcher.Options(Duration.ofMillis(50), Duration.ofHours(1), CatalogLimits.defaults()),
        Optional.empty(), stateDir);
    ReflectionService s = ReflectionService.start(settings, client, creds(cluster), state::get, clock, delays,
        Optional.empty(), meters);
    closing.add(s);
    return s;
  }

  private FakeApiServer api() throws Exception {
    FakeApiServer api = new FakeApiServer();
    closing.add(api);
    return api;
  }

  /** Peer {@code n} of {@link TestStates}, its peer channel at 127.0.0.1:{@code port} (none when 0). */
  private static PeerRecord peer(String cluster, int n, int port) {
    PeerRecord p = TestStates.peer(cluster, n);
    return new PeerRecord(p.clusterId(), p.wireguardPublicKey(), p.wireguardListenPort(), p.gatewayEndpoints(),
        p.podCidrs(), p.serviceCidrs(), port == 0 ? Optional.empty() : Optional.of(new HostPort("127.0.0.1", port)),
        p.labels(), p.generation(), p.revision());
  }

  private static List<V1EndpointSlice> importedSlices(ApiClient client) {
    return KubeApis.endpointSlices(client)
        .list("shop", new ListOptions().labelSelector(Mcs.LABEL_SOURCE_CLUSTER + "=a")).getObject().getItems();
  }

  /** The Services meshwire manages in namespace shop (the derived ones). */
  private static List<String> derivedServices(ApiClient client) {
    return KubeApis.services(client).list("shop", new ListOptions()
        .labelSelector(Mcs.LABEL_MANAGED_BY + "=" + Mcs.MANAGER)).getObject().getItems().stream()
        .map(svc -> svc.getMetadata().getName()).toList();
  }

  private static List<String> addresses(ApiClient client) {
    return importedSlices(client).stream().flatMap(s -> s.getEndpoints().stream())
        .flatMap(e -> e.getAddresses().stream()).sorted().toList();
  }

  @Test
  void withoutTheMcsCrdsReflectionWaitsWithOneWarningAndStartsOnceTheyAreServed() throws Exception {
    FakeApiServer api = api();
    api.mcsCrdsInstalled(false);
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
        .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    var logs = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    logs.start();
    root.addAppender(logs);
    try {
      ReflectionService a = start("a", "10.1.0.0/16", api.client(), new AtomicReference<>(TestStates.state("m", 1)));
      var missing = meters.find("meshwire.agent.reflection.crds.missing").gauge();
      await().atMost(WAIT).until(() -> missing.value() == 1.0);
      // More checks later (CrdWaitTest counts them): still waiting, no catalog, no peer server.
      for (int i = 0; i < 3; i++) {
        delays.advance(RESYNC);
        a.awaitIdle();
      }
      assertTrue(a.peerPort().isEmpty());
      List<String> warnings = logs.list.stream()
          .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN).map(e -> e.getFormattedMessage()).toList();
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).contains("serviceexports.multicluster.x-k8s.io, serviceimports.multicluster.x-k8s.io"),
          warnings.get(0));
      assertEquals(List.of(), logs.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR)
          .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).toList(), "no informer errors");

      api.mcsCrdsInstalled(true);
      await().atMost(WAIT).until(() -> {
        delays.advance(RESYNC); // the next check
        return a.peerPort().isPresent(); // the first catalog was published
      });
      assertEquals(0.0, missing.value());
    } finally {
      root.detachAppender(logs);
    }
  }

  /** A exports shop/web: a Service on port 80, one ready endpoint 10.1.0.5:8080, its ServiceExport. */
  private static void exportWeb(ApiClient apiA) {
    assertTrue(KubeApis.services(apiA).create(service("shop", "web", 80)).isSuccess());
    assertTrue(KubeApis.endpointSlices(apiA).create(slice("shop", "web-1", "web", 8080, endpoint("10.1.0.5", true)))
        .isSuccess());
    assertTrue(KubeApis.serviceExports(apiA).create(new V1alpha1ServiceExport()
        .metadata(new V1ObjectMeta().namespace("shop").name("web"))
        .status(new V1alpha1ServiceExport.Status())).isSuccess());
  }

  @Test
  void exportsOfAAreImportedIntoBFollowLinkHealthAndLeaveWithThePeer() throws Exception {
    Pair p = exportFromAToB(Optional.empty(), port -> port);
    ApiClient apiA = p.apiA();
    ApiClient apiB = p.apiB();
    AtomicReference<AgentState> stateB = p.stateB();
    ReflectionService a = p.a();
    ReflectionService b = p.b();
    var slicesA = KubeApis.endpointSlices(apiA);

    // B imported it, a's pod seen through b's view of a.
    V1EndpointSlice imported = importedSlices(apiB).get(0);
    assertEquals("a", imported.getMetadata().getLabels().get(Mcs.LABEL_SOURCE_CLUSTER));
    assertEquals(Mcs.MANAGER, imported.getMetadata().getLabels().get(Mcs.LABEL_SLICE_MANAGED_BY));
    // A's source is b's (empty) catalog.
    assertEquals("{\"exported\":1,\"sources\":1}", a.statusJson());
    assertEquals("{\"exported\":0,\"sources\":1}", b.statusJson());

    // A new endpoint in A reaches B.
    V1EndpointSlice web1 = slicesA.get("shop", "web-1").getObject();
    web1.endpoints(List.of(endpoint("10.1.0.5", true), endpoint("10.1.0.6", true)));
    assertTrue(slicesA.update(web1).isSuccess());
    await().atMost(WAIT).until(() -> addresses(apiB).equals(List.of("10.201.0.5", "10.201.0.6")));
    assertTrue(endpoints(apiB).stream().allMatch(e -> Boolean.TRUE.equals(e.getConditions().getReady())));

    // The tunnel to a goes down: its endpoints stay, not ready.
    b.linksObserved(Map.of("a", LinkHealth.DOWN));
    await().atMost(WAIT).until(() -> endpoints(apiB).size() == 2
        && endpoints(apiB).stream().noneMatch(e -> Boolean.TRUE.equals(e.getConditions().getReady())));

    // The hub removes a (revoked, or a peering policy changed): everything imported from it goes.
    stateB.set(stateB.get().withPeers(Map.of()));
    b.stateChanged();
    // The derived Service goes last (deletes run in reverse kind order): wait for all three kinds.
    await().atMost(Duration.ofSeconds(2)).until(() -> importedSlices(apiB).isEmpty()
        && imports(apiB).isEmpty() && derivedServices(apiB).isEmpty());
    assertEquals("{\"exported\":0,\"sources\":0}", b.statusJson());
  }

  @Test
  void aCatalogThatArrivesAfterItsPeerLeftTheStateIsNotImported() throws Exception {
    Pair p = paired(Optional.empty(), port -> port);
    ApiClient apiB = p.apiB();
    AtomicReference<AgentState> stateB = p.stateB();
    ReflectionService b = p.b();
    await().atMost(WAIT).until(() -> b.statusJson().equals("{\"exported\":0,\"sources\":1}"));

    // The hub removed a from b's state, and b's link to a has not been told yet (the agent calls
    // stateChanged after it applied the state): a delivery in that window must not be imported.
    stateB.set(stateB.get().withPeers(Map.of()));
    exportWeb(p.apiA());

    await().atMost(WAIT).until(() -> meters.find("meshwire.agent.peer.catalogs.ignored").tag("reason", "not_peer")
        .counter() != null);
    b.awaitIdle();
    assertEquals(List.of(), imports(apiB));
    assertEquals(List.of(), importedSlices(apiB));
  }

  /** What b imported from a before a restart: shop/web with one endpoint, 10.201.0.5. */
  private static void importedFromABefore(ApiClient apiB) throws Exception {
    ServiceImporter before = new ServiceImporter(new KubeImportApi(apiB));
    before.putSource("a", Catalog.empty("ua").next(List.of(new ExportedService("shop", "web",
        ServiceType.CLUSTER_SET_IP, List.of(ServicePort.of("http", "TCP", 80)),
        List.of(Endpoint.ready(Cidr.parseAddress("10.201.0.5"), Map.of("http", 8080))), Instant.now()))), x -> x);
    assertTrue(before.reconcile().converged());
    assertEquals(List.of("10.201.0.5"), addresses(apiB));
  }

  /** A loopback port nothing listens on (a peer that never answers). */
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void aRestartWithThePeerUnreachableDeletesNothingUntilTheStartupGraceIsOver() throws Exception {
    ApiClient apiB = api().client();
    importedFromABefore(apiB);
    int closedPort = closedPort();
    AtomicReference<AgentState> stateB = new AtomicReference<>(TestStates.state("m", 1, peer("a", 1, closedPort))
        .withMyViews(Map.of("a", TestStates.view("b", "a", "10.1.0.0/16", "10.201.0.0/16"))));
    ReflectionService b = start("b", "10.2.0.0/16", apiB, stateB, Duration.ofSeconds(4));
    await().atMost(WAIT).until(() -> b.peerPort().isPresent()); // the CRDs are served, exports run
    // Ten periodic passes (every 300 ms), yet a never delivered: nothing is touched meanwhile.
    delays.advance(Duration.ofSeconds(3));
    b.awaitIdle();
    assertEquals(List.of("web"), imports(apiB));
    assertEquals(List.of("10.201.0.5"), addresses(apiB));
    // The grace is over: b reconciles with what it knows (no catalog from a).
    delays.advance(Duration.ofSeconds(1));
    await().atMost(WAIT).until(() -> imports(apiB).isEmpty() && importedSlices(apiB).isEmpty());
  }

  @Test
  void aPeerRemovedWhileImportsWaitForTheStartupGateLosesItsImportsWithinTwoSeconds() throws Exception {
    ApiClient apiB = api().client();
    importedFromABefore(apiB);
    int closedPort = closedPort();
    // Neither a nor c answers: the startup gate stays closed (its grace is never reached here).
    AtomicReference<AgentState> stateB = new AtomicReference<>(TestStates.state("m", 1, peer("a", 1, closedPort),
        peer("c", 3, closedPort)).withMyViews(Map.of("a", TestStates.view("b", "a", "10.1.0.0/16", "10.201.0.0/16"))));
    ReflectionService b = start("b", "10.2.0.0/16", apiB, stateB, Duration.ofSeconds(60));
    await().atMost(WAIT).until(() -> b.peerPort().isPresent()); // the CRDs are served, exports run
    b.awaitIdle();
    assertEquals(List.of("web"), imports(apiB));

    // a leaves the peer set (revoked, or a policy no longer pairs it with b).
    stateB.set(stateB.get().withPeers(TestStates.byId(peer("c", 3, closedPort))));
    b.stateChanged();

    await().atMost(Duration.ofSeconds(2)).until(() -> imports(apiB).isEmpty() && importedSlices(apiB).isEmpty()
        && derivedServices(apiB).isEmpty());
  }

  @Test
  void kubeClientReadsTheKubeconfigAndNeverTimesOutAWatch(@TempDir Path dir) throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster: {server: "https://10.96.0.1:6443", insecure-skip-tls-verify: true}
        users:
        - name: u
          user: {token: t}
        contexts:
        - name: x
          context: {cluster: c, user: u}
        current-context: x
        """);

    ApiClient client = io.meshwire.reflection.kube.KubeClients.fromKubeconfig(kubeconfig);

    assertEquals("https://10.96.0.1:6443", client.getBasePath());
    assertEquals(0, client.getReadTimeout());
  }

  /** A exports shop/web (one endpoint, 10.1.0.5) and B, which sees a's pods as 10.201.0.0/16, imports it. */
  private record Pair(ReflectionService a, ReflectionService b, ApiClient apiA, ApiClient apiB,
      AtomicReference<AgentState> stateA, AtomicReference<AgentState> stateB) {}

  private Pair exportFromAToB(Optional<Path> stateDirB, java.util.function.IntUnaryOperator addressOfA)
      throws Exception {
    Pair p = paired(stateDirB, addressOfA);
    exportWeb(p.apiA());
    await().atMost(WAIT).until(() -> imports(p.apiB()).equals(List.of("web"))
        && addresses(p.apiB()).equals(List.of("10.201.0.5")));
    return p;
  }

  /** a and b started, each the other's peer (b reaches a's peer port through {@code addressOfA}). */
  private Pair paired(Optional<Path> stateDirB, java.util.function.IntUnaryOperator addressOfA) throws Exception {
    ApiClient apiA = api().client();
    ApiClient apiB = api().client();
    AtomicReference<AgentState> stateA = new AtomicReference<>(TestStates.state("m", 1, peer("b", 2, 0)));
    AtomicReference<AgentState> stateB = new AtomicReference<>(TestStates.state("m", 1, peer("a", 1, 0))
        .withMyViews(Map.of("a", TestStates.view("b", "a", "10.1.0.0/16", "10.201.0.0/16"))));
    ReflectionService a = start("a", "10.1.0.0/16", apiA, stateA);
    ReflectionService b = start("b", "10.2.0.0/16", apiB, stateB, Duration.ofSeconds(60), stateDirB);
    // Each serves once its first (empty) catalog is recorded; then each learns the other's address.
    await().atMost(WAIT).until(() -> a.peerPort().isPresent() && b.peerPort().isPresent());
    stateA.set(stateA.get().withPeers(TestStates.byId(peer("b", 2, b.peerPort().get()))));
    stateB.set(stateB.get().withPeers(TestStates.byId(peer("a", 1, addressOfA.applyAsInt(a.peerPort().get())))));
    a.stateChanged();
    b.stateChanged();
    return new Pair(a, b, apiA, apiB, stateA, stateB);
  }

  /** Adds an endpoint to a's shop/web. */
  private static void addEndpoint(ApiClient apiA, String address) {
    var slices = KubeApis.endpointSlices(apiA);
    V1EndpointSlice web1 = slices.get("shop", "web-1").getObject();
    List<V1Endpoint> endpoints = new ArrayList<>(web1.getEndpoints());
    endpoints.add(endpoint(address, true));
    web1.endpoints(endpoints);
    assertTrue(slices.update(web1).isSuccess());
  }

  private double counter(String name, String peer) {
    var c = meters.find(name).tag("peer", peer).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aRestartWhileThePeerIsUnreachableKeepsItsImportsNotReadyAndResumesFromTheStoredRevision(@TempDir Path dirB)
      throws Exception {
    // b reaches a through a relay: cutting it makes a unreachable while a keeps its catalog (uid, history).
    Relay relay = new Relay();
    closing.add(relay);
    Pair p = exportFromAToB(Optional.of(dirB), relay::forwardTo);
    p.b().close(); // b stops; what it had is on disk
    assertTrue(Files.exists(dirB.resolve(PeerCatalogStore.FILE_NAME)));
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dirB.resolve(PeerCatalogStore.FILE_NAME))));
    double fullBefore = counter("meshwire.agent.peer.catalog.full", "a");
    assertEquals(1.0, fullBefore);

    relay.cut(); // a is unreachable (tunnel down) ...
    addEndpoint(p.apiA(), "10.1.0.6"); // ... and changes meanwhile

    // b comes back with a short grace: a never answers, yet its imports stay, turned not-ready.
    ReflectionService b = start("b", "10.2.0.0/16", p.apiB(), p.stateB(), Duration.ofSeconds(2), Optional.of(dirB));
    await().atMost(WAIT).until(() -> b.peerPort().isPresent()); // the CRDs are served, exports run
    delays.advance(Duration.ofSeconds(2)); // the grace is over
    await().atMost(WAIT).until(() -> endpoints(p.apiB()).size() == 1
        && endpoints(p.apiB()).stream().noneMatch(e -> Boolean.TRUE.equals(e.getConditions().getReady())));
    delays.advance(Duration.ofSeconds(1)); // periodic passes
    b.awaitIdle();
    assertEquals(List.of("web"), imports(p.apiB()));
    assertEquals(List.of("10.201.0.5"), addresses(p.apiB()));

    // a is reachable again: b resumes from the stored revision and gets only the change it missed.
    relay.restore();
    await().atMost(WAIT).until(() -> addresses(p.apiB()).equals(List.of("10.201.0.5", "10.201.0.6")));
    assertEquals(fullBefore, counter("meshwire.agent.peer.catalog.full", "a"), "resumed: no full catalog again");
    assertTrue(endpoints(p.apiB()).stream().noneMatch(e -> Boolean.TRUE.equals(e.getConditions().getReady())),
        "not ready before the link is seen up");
    b.linksObserved(Map.of("a", LinkHealth.UP));
    await().atMost(WAIT).until(() -> endpoints(p.apiB()).size() == 2
        && endpoints(p.apiB()).stream().allMatch(e -> Boolean.TRUE.equals(e.getConditions().getReady())));
  }

  @Test
  void aStoredCatalogOfAPeerThatLeftIsDroppedAndItsImportsGo(@TempDir Path dirB) throws Exception {
    ApiClient apiB = api().client();
    Catalog ofA = Catalog.empty("ua").next(List.of(new ExportedService("shop", "web", ServiceType.CLUSTER_SET_IP,
        List.of(ServicePort.of("http", "TCP", 80)), List.of(Endpoint.ready(Cidr.parseAddress("10.1.0.5"),
            Map.of("http", 8080))), Instant.now())));
    ServiceImporter before = new ServiceImporter(new KubeImportApi(apiB));
    before.putSource("a", ofA, x -> x);
    assertTrue(before.reconcile().converged());
    PeerCatalogStore store = new PeerCatalogStore(dirB, CatalogLimits.defaults(), InstantSource.system());
    store.save(Map.of("a", ofA));

    // a was removed through the hub while b was down: b's state no longer has it.
    ReflectionService b = start("b", "10.2.0.0/16", apiB, new AtomicReference<>(TestStates.state("m", 1)),
        Duration.ofSeconds(1), Optional.of(dirB));
    await().atMost(WAIT).until(() -> b.peerPort().isPresent()); // restored, the CRDs are served, exports run
    delays.advance(ReflectionService.PERSIST_DELAY.plus(Duration.ofSeconds(1))); // the write and the grace

    // What this test is about: the stored catalog of a is dropped at load and the file rewritten.
    await().atMost(WAIT).until(() -> store.load() instanceof PeerCatalogStore.Loaded.Found f && f.catalogs().isEmpty());
    // With no source left for them, the imports go once the gate opens (here the 1 s grace).
    await().atMost(WAIT).until(() -> imports(apiB).isEmpty() && importedSlices(apiB).isEmpty());
  }

  @Test
  void aCorruptCatalogFileIsSetAsideCountedAndStartsAsIfNone(@TempDir Path dirB) throws Exception {
    Files.writeString(dirB.resolve(PeerCatalogStore.FILE_NAME), "garbage");

    ReflectionService b = start("b", "10.2.0.0/16", api().client(), new AtomicReference<>(TestStates.state("m", 1)),
        Duration.ofSeconds(60), Optional.of(dirB));

    await().atMost(WAIT).until(() -> meters.find("meshwire.agent.peer.catalogs.corrupt").tag("reason", "header")
        .counter() != null);
    assertEquals(1.0, meters.counter("meshwire.agent.peer.catalogs.corrupt", "reason", "header").count());
    assertFalse(Files.exists(dirB.resolve(PeerCatalogStore.FILE_NAME)));
    try (var files = Files.list(dirB)) {
      assertEquals(1, files.filter(f -> f.getFileName().toString().startsWith(PeerCatalogStore.FILE_NAME + ".corrupt-"))
          .count());
    }
    await().atMost(WAIT).until(() -> b.peerPort().isPresent()); // and it runs on
  }

  @Test
  void renewedCredentialsAreShownToNewPeerConnectionsWhileEstablishedStreamsStayUp() throws Exception {
    Pair p = exportFromAToB(Optional.empty(), port -> port);
    int port = p.a().peerPort().orElseThrow();
    BigInteger first = serialPresented(port);
    double streams = counter("meshwire.agent.peer.catalog.streams", "a");
    TlsCredentials renewed = creds("a");
    assertNotEquals(first, renewed.leaf().getSerialNumber());

    p.a().useCredentials(renewed);

    assertEquals(renewed.leaf().getSerialNumber(), serialPresented(port), "a new connection sees the new certificate");
    // b's stream to a, opened before the swap, carries on: a change arrives with no new stream.
    addEndpoint(p.apiA(), "10.1.0.6");
    await().atMost(WAIT).until(() -> addresses(p.apiB()).equals(List.of("10.201.0.5", "10.201.0.6")));
    assertEquals(streams, counter("meshwire.agent.peer.catalog.streams", "a"), "the established stream stayed up");
  }

  /** The serial number of the certificate the peer server at {@code port} presents to a new connection (as b). */
  private BigInteger serialPresented(int port) throws Exception {
    AtomicReference<X509Certificate> seen = new AtomicReference<>();
    TlsCredentials b = creds("b");
    var tls = io.grpc.netty.GrpcSslContexts.forClient().protocols("TLSv1.3")
        .keyManager(b.privateKey(), b.chain().toArray(X509Certificate[]::new))
        .trustManager(new RecordingTrustManager(seen)).build();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).sslContext(tls).build();
    try {
      assertEquals("a", PeerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .probe(ProbeRequest.getDefaultInstance()).getClusterId());
    } finally {
      channel.shutdownNow();
    }
    return seen.get().getSerialNumber();
  }

  /** Accepts any server and remembers its leaf certificate (test only: what is presented is the question). */
  private static final class RecordingTrustManager extends javax.net.ssl.X509ExtendedTrustManager {
    private final AtomicReference<X509Certificate> seen;

    RecordingTrustManager(AtomicReference<X509Certificate> seen) {
      this.seen = seen;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      seen.set(chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
      seen.set(chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {
      seen.set(chain[0]);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
        throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /**
   * A TCP relay on a fixed loopback port to another one: {@link #cut} closes the port and every
   * relayed connection (the peer looks unreachable), {@link #restore} listens on the same port again.
   */
  private static final class Relay implements AutoCloseable {
    private final List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile java.net.ServerSocket listener;
    private volatile int target;
    private int port;

    /** Starts relaying to {@code targetPort}; returns the relay's port. */
    synchronized int forwardTo(int targetPort) {
      target = targetPort;
      listen(0);
      port = listener.getLocalPort();
      return port;
    }

    synchronized void cut() throws java.io.IOException {
      listener.close();
      for (java.net.Socket s : sockets) {
        s.close();
      }
      sockets.clear();
    }

    synchronized void restore() {
      listen(port);
    }

    private void listen(int onPort) {
      try {
        java.net.ServerSocket server = new java.net.ServerSocket();
        server.setReuseAddress(true);
        server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
        listener = server;
        Thread.ofVirtual().start(() -> accept(server));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    private void accept(java.net.ServerSocket server) {
      while (!server.isClosed()) {
        try {
          java.net.Socket in = server.accept();
          sockets.add(in);
          java.net.Socket out = new java.net.Socket(InetAddress.getLoopbackAddress(), target);
          sockets.add(out);
          Thread.ofVirtual().start(() -> pump(in, out));
          Thread.ofVirtual().start(() -> pump(out, in));
        } catch (java.io.IOException e) {
          // closed by cut(), or the target refused: the caller sees a closed connection
        }
      }
    }

    private static void pump(java.net.Socket from, java.net.Socket to) {
      try {
        from.getInputStream().transferTo(to.getOutputStream());
      } catch (java.io.IOException e) {
        // one side closed
      } finally {
        try {
          from.close();
          to.close();
        } catch (java.io.IOException ignored) {
          // closing anyway
        }
      }
    }

    @Override
    public synchronized void close() throws java.io.IOException {
      cut();
    }
  }

  /** Names of the ServiceImports in namespace shop (a get of a missing one throws instead of answering 404). */
  private static List<String> imports(ApiClient client) {
    return KubeApis.serviceImports(client).list("shop").getObject().getItems().stream()
        .map(i -> i.getMetadata().getName()).toList();
  }

  private static List<V1Endpoint> endpoints(ApiClient client) {
    return importedSlices(client).stream().flatMap(s -> s.getEndpoints().stream()).toList();
  }
}
