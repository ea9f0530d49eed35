package io.meshwire.e2e;

import static io.meshwire.reflection.kube.KubeObjects.endpoint;
import static io.meshwire.reflection.kube.KubeObjects.service;
import static io.meshwire.reflection.kube.KubeObjects.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.util.generic.options.ListOptions;
import io.meshwire.netaddr.Cidr;
import io.meshwire.reflection.kube.FakeApiServer;
import io.meshwire.reflection.kube.KubeApis;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.V1alpha1ServiceExport;
import io.meshwire.reflection.kube.V1alpha1ServiceImport;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.testsupport.netns.Requirements;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multi-Cluster Services reflection end to end: clusters a and b (both on 10.244.0.0/16, so each
 * sees the other remapped) each have their own fake Kubernetes API server; the agents run as
 * processes in their gateway namespaces, watch their API server and exchange catalogs over the
 * peer channel through the tunnel. A Service exported in a, with its endpoint at a's workload,
 * shows up in b as an EndpointSlice whose address (b's view of a's workload) reaches a's echo
 * server; an endpoint added in a while the hub is down still reaches b; cutting a off turns b's
 * slice not-ready, and reconnecting it ready again; b restarted while the hub is down and a is cut
 * off keeps its imports (from its stored catalog of a), not ready; revoking a removes all b
 * imported from it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReflectionIT {

  private static final Logger log = LoggerFactory.getLogger(ReflectionIT.class);
  private static final int ECHO = 7000;
  private static final String NS = "shop";
  /** A short keepalive and link threshold, so a cut tunnel shows within seconds. */
  private static final List<String> FAST_LINKS = List.of("--persistent-keepalive", "1s", "--link-down-after", "4s");
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static MeshLab lab;
  private static FakeApiServer apiServerA;
  private static FakeApiServer apiServerB;
  private static ApiClient kubeA;
  private static ApiClient kubeB;

  @BeforeAll
  static void startLab() throws Exception {
    Requirements.check().enforce();
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("reflection-" + System.nanoTime());
    apiServerA = new FakeApiServer();
    apiServerB = new FakeApiServer();
    kubeA = apiServerA.client();
    kubeB = apiServerB.client();
    lab = MeshLab.start(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")));
  }

  @AfterAll
  static void stopLab() {
    if (lab != null) {
      lab.close();
    }
    for (FakeApiServer api : new FakeApiServer[] {apiServerA, apiServerB}) {
      if (api != null) {
        api.close();
      }
    }
  }

  /** Address {@code host} of {@code peer}'s pod CIDR (e.g. 10 for its workload) as {@code observer} sees it. */
  private static String asSeenBy(String observer, String peer, int host) {
    MeshLab.awaitTrue(() -> lab.seenAs(observer, peer).isPresent(), WAIT, observer + " to decide its view of " + peer);
    Cidr view = Cidr.parse(lab.seenAs(observer, peer).orElseThrow());
    return Cidr.of(view.first().add(BigInteger.valueOf(host)), view.addressBits(), view.isIpv4()).address()
        .getHostAddress();
  }

  /** The EndpointSlices b imported from a for shop/echo. */
  private static List<V1EndpointSlice> importedSlices() {
    return KubeApis.endpointSlices(kubeB).list(NS, new ListOptions().labelSelector(
        Mcs.LABEL_SOURCE_CLUSTER + "=a," + Mcs.LABEL_SERVICE_NAME + "=echo")).getObject().getItems();
  }

  private static List<V1Endpoint> importedEndpoints() {
    return importedSlices().stream().flatMap(s -> s.getEndpoints().stream()).toList();
  }

  private static List<String> importedAddresses() {
    return importedEndpoints().stream().flatMap(e -> e.getAddresses().stream()).sorted().toList();
  }

  private static boolean allReady(boolean ready) {
    List<V1Endpoint> endpoints = importedEndpoints();
    return !endpoints.isEmpty()
        && endpoints.stream().allMatch(e -> Objects.equals(ready, e.getConditions().getReady()));
  }

  /** What a's echo server answers b at {@code address} (the client's address as a sees it), or "". */
  private static String askFromB(String address) {
    return lab.tcpAsk("b", address, ECHO);
  }

  @Test
  @Order(1)
  void aServiceExportedInAIsImportedIntoBAndReachableThroughTheTunnel() throws Exception {
    lab.addClusterWithApiServer("a", "10.244.0.0/16", apiServerA.port(), FAST_LINKS);
    lab.addClusterWithApiServer("b", "10.244.0.0/16", apiServerB.port(), FAST_LINKS);
    lab.startEchoServer("a", ECHO);
    String workloadA = lab.cluster("a").workloadAddress();

    assertTrue(KubeApis.services(kubeA).create(service(NS, "echo", 80)).isSuccess());
    assertTrue(KubeApis.endpointSlices(kubeA).create(slice(NS, "echo-1", "echo", ECHO, endpoint(workloadA, true)))
        .isSuccess());
    long exportedAt = System.nanoTime();
    assertTrue(KubeApis.serviceExports(kubeA).create(new V1alpha1ServiceExport()
        .metadata(new V1ObjectMeta().namespace(NS).name("echo")).status(new V1alpha1ServiceExport.Status()))
        .isSuccess());

    String expected = asSeenBy("b", "a", 10);
    MeshLab.awaitTrue(() -> importedAddresses().equals(List.of(expected)), WAIT,
        "b to import shop/echo from a at " + expected);
    log.info("reflection export_to_import_ms={} a_workload={} b_sees_it_as={}",
        (System.nanoTime() - exportedAt) / 1_000_000, workloadA, expected);
    V1EndpointSlice imported = importedSlices().get(0);
    assertEquals(Mcs.MANAGER, imported.getMetadata().getLabels().get(Mcs.LABEL_SLICE_MANAGED_BY));
    assertEquals(ECHO, imported.getPorts().get(0).getPort());
    // Ready once b's agent has seen the tunnel to a up (link observations every second).
    MeshLab.awaitTrue(() -> allReady(true), Duration.ofSeconds(15), "a's endpoint to be ready in b");

    V1alpha1ServiceImport serviceImport = KubeApis.serviceImports(kubeB).get(NS, "echo").getObject();
    assertEquals("ClusterSetIP", serviceImport.getSpec().getType());
    assertEquals(80, serviceImport.getSpec().getPorts().get(0).getPort());
    List<V1Service> derived = KubeApis.services(kubeB).list(NS, new ListOptions()
        .labelSelector(Mcs.LABEL_MANAGED_BY + "=" + Mcs.MANAGER)).getObject().getItems();
    assertEquals(1, derived.size(), "one derived Service for the import");

    // Through the tunnel: b dials the imported address; a sees b as a's view of b's workload.
    String bAsSeenByA = asSeenBy("a", "b", 10);
    MeshLab.awaitTrue(() -> !askFromB(expected).isEmpty(), Duration.ofSeconds(30), "b -> a's echo at " + expected);
    assertEquals(bAsSeenByA, askFromB(expected));
  }

  @Test
  @Order(2)
  void anEndpointAddedInAWhileTheHubIsDownReachesB() throws Exception {
    lab.killHub();
    String first = asSeenBy("b", "a", 10);
    assertEquals(List.of(first), importedAddresses(), "the hub outage alone changes nothing");

    // A second pod address in a's workload, answering on the same echo server.
    String secondA = Cidr.of(Cidr.parse("10.244.0.0/16").first().add(BigInteger.valueOf(11)), 32, true).address()
        .getHostAddress();
    lab.net().exec(lab.cluster("a").workload(), "ip", "address", "add", secondA + "/32", "dev", "lo").orThrow();
    var slicesA = KubeApis.endpointSlices(kubeA);
    V1EndpointSlice echo1 = slicesA.get(NS, "echo-1").getObject();
    echo1.endpoints(List.of(endpoint(lab.cluster("a").workloadAddress(), true), endpoint(secondA, true)));
    long addedAt = System.nanoTime();
    assertTrue(slicesA.update(echo1).isSuccess());

    String second = asSeenBy("b", "a", 11);
    MeshLab.awaitTrue(() -> importedAddresses().equals(List.of(first, second).stream().sorted().toList()), WAIT,
        "b to import a's new endpoint " + second + " with the hub down");
    log.info("reflection hub_down endpoint_added_to_imported_ms={}", (System.nanoTime() - addedAt) / 1_000_000);
    assertTrue(allReady(true), "the new endpoint of a reachable source is ready");
    MeshLab.awaitTrue(() -> !askFromB(second).isEmpty(), Duration.ofSeconds(30), "b -> a's echo at " + second);
    assertEquals(asSeenBy("a", "b", 10), askFromB(second));
  }

  @Test
  @Order(3)
  void cuttingAsTunnelTurnsBsSliceNotReadyAndReconnectingItReadyAgain() {
    List<String> before = importedAddresses();
    long cutAt = System.nanoTime();
    lab.setUplink("a", false);
    MeshLab.awaitTrue(() -> allReady(false), WAIT, "b's slice of a to turn not-ready");
    long notReadyMs = (System.nanoTime() - cutAt) / 1_000_000;
    assertEquals(before, importedAddresses(), "a cut tunnel keeps the endpoints, only not ready");
    assertEquals("", askFromB(before.get(0)), "a is unreachable while cut");

    long restoredAt = System.nanoTime();
    lab.setUplink("a", true);
    MeshLab.awaitTrue(() -> allReady(true), WAIT, "b's slice of a to turn ready again");
    log.info("reflection tunnel_cut_to_not_ready_ms={} reconnect_to_ready_ms={} (link-down-after 4s)", notReadyMs,
        (System.nanoTime() - restoredAt) / 1_000_000);
    MeshLab.awaitTrue(() -> !askFromB(before.get(0)).isEmpty(), Duration.ofSeconds(30), "b -> a after reconnect");
  }

  @Test
  @Order(4)
  void bRestartedWithTheHubDownAndACutOffKeepsItsImportsNotReady() throws Exception {
    List<String> before = importedAddresses();
    MeshLab.awaitTrue(() -> allReady(true), Duration.ofSeconds(15), "a's endpoints ready in b before the restart");
    lab.killAgentAndDataPlane("b");
    lab.setUplink("a", false);
    long startedAt = System.nanoTime();
    lab.startAgent("b");
    // b knows a's catalog only from its own disk (no hub, no peer channel): its first import pass
    // marks a's endpoints not-ready, and deletes nothing.
    MeshLab.awaitTrue(() -> allReady(false), WAIT, "restarted b to mark a's endpoints not-ready");
    log.info("reflection restart_to_not_ready_ms={}", (System.nanoTime() - startedAt) / 1_000_000);
    assertEquals(before, importedAddresses(), "a restart with the peer unreachable deletes nothing");
    assertEquals(1, KubeApis.serviceImports(kubeB).list(NS).getObject().getItems().size());

    lab.setUplink("a", true);
    MeshLab.awaitTrue(() -> allReady(true), WAIT, "b's imports of a to turn ready once a is back");
    MeshLab.awaitTrue(() -> !askFromB(before.get(0)).isEmpty(), Duration.ofSeconds(30), "b -> a after b's restart");
  }

  @Test
  @Order(5)
  void revokingAGarbageCollectsEverythingBImportedFromIt() throws Exception {
    lab.startHub();
    var revoke = lab.cli("revoke", "a", "--reason", "e2e");
    assertEquals(0, revoke.exitCode(), revoke.stdout() + revoke.stderr());
    long revokedAt = System.nanoTime();
    // b learns it when its hub session is back (backoff after the outage), then deletes a's imports.
    MeshLab.awaitTrue(() -> importedSlices().isEmpty() && KubeApis.serviceImports(kubeB).list(NS).getObject()
        .getItems().isEmpty(), WAIT, "b to drop everything imported from revoked a");
    log.info("reflection revoked_to_imports_deleted_ms={}", (System.nanoTime() - revokedAt) / 1_000_000);
    assertTrue(KubeApis.services(kubeB).list(NS, new ListOptions()
        .labelSelector(Mcs.LABEL_MANAGED_BY + "=" + Mcs.MANAGER)).getObject().getItems().isEmpty(),
        "the derived Service goes too");
    assertEquals(1, KubeApis.services(kubeA).list(NS).getObject().getItems().size(), "a's own Service is untouched");
  }
}
