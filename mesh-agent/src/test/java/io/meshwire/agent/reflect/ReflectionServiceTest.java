package io.meshwire.agent.reflect;

import static io.meshwire.reflection.kube.KubeObjects.endpoint;
import static io.meshwire.reflection.kube.KubeObjects.service;
import static io.meshwire.reflection.kube.KubeObjects.slice;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.generic.options.ListOptions;
import io.meshwire.agent.hub.Backoff;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
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
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two in-process reflection services, "a" (pods 10.1.0.0/16) and "b" (pods 10.2.0.0/16, sees a's
 * pods as 10.201.0.0/16), each on its own fake API server, talking over the real peer channel
 * (mutual TLS on certificates of one mesh CA, 127.0.0.1). The agent state is a plain reference.
 */
class ReflectionServiceTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final MeshCa ca = MeshCa.create("test", Duration.ofDays(30), InstantSource.system());
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  private TlsCredentials creds(String cluster) {
    IssuedCredential issued = ca.issue(new SpiffeId("test", Role.CLUSTER, cluster), Duration.ofDays(1));
    return new TlsCredentials(issued.privateKey(), List.of(issued.certificate()), List.of(issued.ca()));
  }

  private ReflectionService start(String cluster, String podCidr, ApiClient client, AtomicReference<AgentState> state) {
    return start(cluster, podCidr, client, state, Duration.ofSeconds(60));
  }

  private ReflectionService start(String cluster, String podCidr, ApiClient client, AtomicReference<AgentState> state,
      Duration startupGrace) {
    ReflectionService.Settings settings = new ReflectionService.Settings(cluster, new HostPort("127.0.0.1", 0),
        List.of(Cidr.parse(podCidr)), startupGrace, Duration.ofMillis(300), Duration.ofSeconds(1),
        new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), RandomGenerator.getDefault()),
        new KubeExportWatcher.Options(Duration.ofMillis(50), Duration.ofHours(1), CatalogLimits.defaults()),
        Optional.empty());
    ReflectionService s = ReflectionService.start(settings, client, creds(cluster), state::get, InstantSource.system(),
        meters);
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

  private static List<String> addresses(ApiClient client) {
    return importedSlices(client).stream().flatMap(s -> s.getEndpoints().stream())
        .flatMap(e -> e.getAddresses().stream()).sorted().toList();
  }

  @Test
  void exportsOfAAreImportedIntoBFollowLinkHealthAndLeaveWithThePeer() throws Exception {
    ApiClient apiA = api().client();
    ApiClient apiB = api().client();
    AtomicReference<AgentState> stateA = new AtomicReference<>(TestStates.state("m", 1, peer("b", 2, 0)));
    AtomicReference<AgentState> stateB = new AtomicReference<>(TestStates.state("m", 1, peer("a", 1, 0))
        .withMyViews(Map.of("a", TestStates.view("b", "a", "10.1.0.0/16", "10.201.0.0/16"))));
    ReflectionService a = start("a", "10.1.0.0/16", apiA, stateA);
    ReflectionService b = start("b", "10.2.0.0/16", apiB, stateB);
    // Each serves once its first (empty) catalog is recorded; then each learns the other's address.
    await().atMost(WAIT).until(() -> a.peerPort().isPresent() && b.peerPort().isPresent());
    stateA.set(stateA.get().withPeers(TestStates.byId(peer("b", 2, b.peerPort().get()))));
    stateB.set(stateB.get().withPeers(TestStates.byId(peer("a", 1, a.peerPort().get()))));
    a.stateChanged();
    b.stateChanged();

    // A exports shop/web.
    assertTrue(KubeApis.services(apiA).create(service("shop", "web", 80)).isSuccess());
    var slicesA = KubeApis.endpointSlices(apiA);
    assertTrue(slicesA.create(slice("shop", "web-1", "web", 8080, endpoint("10.1.0.5", true))).isSuccess());
    assertTrue(KubeApis.serviceExports(apiA).create(new V1alpha1ServiceExport()
        .metadata(new V1ObjectMeta().namespace("shop").name("web"))
        .status(new V1alpha1ServiceExport.Status())).isSuccess());

    // B imports it, a's pod seen through b's view of a.
    await().atMost(WAIT).until(() -> imports(apiB).equals(List.of("web"))
        && addresses(apiB).equals(List.of("10.201.0.5")));
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

    // The hub removes a: everything imported from it goes.
    stateB.set(stateB.get().withPeers(Map.of()));
    b.stateChanged();
    await().atMost(WAIT).until(() -> importedSlices(apiB).isEmpty()
        && imports(apiB).isEmpty());
    assertTrue(KubeApis.services(apiB).list("shop", new ListOptions()
        .labelSelector(Mcs.LABEL_MANAGED_BY + "=" + Mcs.MANAGER)).getObject().getItems().isEmpty());
    assertEquals("{\"exported\":0,\"sources\":0}", b.statusJson());
  }

  @Test
  void aRestartWithThePeerUnreachableDeletesNothingUntilTheStartupGraceIsOver() throws Exception {
    ApiClient apiB = api().client();
    // What b imported from a before the restart.
    ServiceImporter before = new ServiceImporter(new KubeImportApi(apiB));
    before.putSource("a", Catalog.empty("ua").next(List.of(new ExportedService("shop", "web",
        ServiceType.CLUSTER_SET_IP, List.of(ServicePort.of("http", "TCP", 80)),
        List.of(Endpoint.ready(Cidr.parseAddress("10.201.0.5"), Map.of("http", 8080))), Instant.now()))), x -> x);
    assertTrue(before.reconcile().converged());
    assertEquals(List.of("10.201.0.5"), addresses(apiB));

    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    AtomicReference<AgentState> stateB = new AtomicReference<>(TestStates.state("m", 1, peer("a", 1, closedPort))
        .withMyViews(Map.of("a", TestStates.view("b", "a", "10.1.0.0/16", "10.201.0.0/16"))));
    start("b", "10.2.0.0/16", apiB, stateB, Duration.ofSeconds(4));
    // Periodic passes run every 300 ms, yet a never delivered: nothing is touched meanwhile.
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
        .until(() -> imports(apiB).equals(List.of("web")) && addresses(apiB).equals(List.of("10.201.0.5")));
    // The grace is over: b reconciles with what it knows (no catalog from a).
    await().atMost(WAIT).until(() -> imports(apiB).isEmpty() && importedSlices(apiB).isEmpty());
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

    ApiClient client = ReflectionService.kubeClient(kubeconfig);

    assertEquals("https://10.96.0.1:6443", client.getBasePath());
    assertEquals(0, client.getReadTimeout());
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
