package io.meshwire.reflection.export;

import static io.meshwire.reflection.kube.KubeObjects.endpoint;
import static io.meshwire.reflection.kube.KubeObjects.service;
import static io.meshwire.reflection.kube.KubeObjects.slice;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1Condition;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.kube.FakeApiServer;
import io.meshwire.reflection.kube.KubeApis;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.V1alpha1ServiceExport;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The export watcher against fabric8's CRUD mock through the official client. The informers'
 * resync period is an hour: every change below reaches the catalog through a real watch.
 */
class KubeExportWatcherTest {

  private FakeApiServer api;
  private ApiClient client;
  private KubeExportWatcher watcher;
  private final List<Catalog> published = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    api = new FakeApiServer();
    client = api.client();
  }

  @AfterEach
  void stop() {
    if (watcher != null) {
      watcher.close();
    }
    api.close();
  }

  private void startWatcher() {
    watcher = new KubeExportWatcher(client, "a",
        new KubeExportWatcher.Options(Duration.ofMillis(50), Duration.ofHours(1), CatalogLimits.defaults()),
        InstantSource.system(), published::add);
    watcher.start();
  }

  private Catalog last() {
    return published.isEmpty() ? null : published.get(published.size() - 1);
  }

  /**
   * An export as a user creates it, but with an empty status: the mock's status subresource
   * applies a JSON patch to the stored "status" field and fails when there is none (a real API
   * server does not care).
   */
  private static V1alpha1ServiceExport export(String ns, String name) {
    return new V1alpha1ServiceExport().metadata(new V1ObjectMeta().namespace(ns).name(name))
        .status(new V1alpha1ServiceExport.Status());
  }

  @Test
  void watchesExportsServicesAndSlicesIntoTheCatalog() {
    KubeApis.services(client).create(service("shop", "web", 80)).isSuccess();
    var slices = KubeApis.endpointSlices(client);
    assertTrue(slices.create(slice("shop", "web-1", "web", 8080, endpoint("10.0.0.1", true))).isSuccess());
    startWatcher();
    await().atMost(Duration.ofSeconds(20)).until(() -> last() != null);
    assertEquals(0, last().services().size(), "synced and empty: published at once");

    var exports = KubeApis.serviceExports(client);
    assertTrue(exports.create(export("shop", "web")).isSuccess());
    await().atMost(Duration.ofSeconds(20)).until(() -> last().services().size() == 1);
    ExportedService web = last().services().get(0);
    assertEquals(1, web.endpoints().size());

    // A new endpoint arrives only through the EndpointSlice watch.
    V1EndpointSlice current = slices.get("shop", "web-1").getObject();
    current.endpoints(List.of(endpoint("10.0.0.1", true), endpoint("10.0.0.2", true)));
    assertTrue(slices.update(current).isSuccess());
    await().atMost(Duration.ofSeconds(20)).until(() -> last().services().get(0).endpoints().size() == 2);

    // Its status says it is valid and unconflicted.
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      V1alpha1ServiceExport e = exports.get("shop", "web").getObject();
      return e.getStatus() != null && e.getStatus().getConditions().size() == 2;
    });
    List<V1Condition> conditions = exports.get("shop", "web").getObject().getStatus().getConditions();
    assertEquals("True/Exported", conditions.stream().filter(c -> c.getType().equals(Mcs.CONDITION_VALID))
        .map(c -> c.getStatus() + "/" + c.getReason()).findFirst().orElseThrow());

    long revision = last().revision();
    assertTrue(exports.delete("shop", "web").isSuccess());
    await().atMost(Duration.ofSeconds(20)).until(() -> last().services().isEmpty());
    assertTrue(last().revision() > revision);
  }

  @Test
  void conflictWithAnOlderRemoteExportIsWrittenToTheServiceExport() {
    KubeApis.services(client).create(service("shop", "web", 80));
    var exports = KubeApis.serviceExports(client);
    exports.create(export("shop", "web"));
    startWatcher();
    await().atMost(Duration.ofSeconds(20)).until(() -> last() != null && last().services().size() == 1);
    ExportedService mine = last().services().get(0);
    Catalog remote = Catalog.empty("b").next(List.of(new ExportedService("shop", "web", mine.type(),
        List.of(io.meshwire.reflection.catalog.ServicePort.of("http", "TCP", 8443)), List.of(),
        mine.exportedAt().minusSeconds(3600))));
    watcher.remoteCatalogs(java.util.Map.of("b", remote));
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      V1alpha1ServiceExport e = exports.get("shop", "web").getObject();
      return e.getStatus() != null && e.getStatus().getConditions().stream()
          .anyMatch(c -> c.getType().equals(Mcs.CONDITION_CONFLICT) && "True".equals(c.getStatus())
              && "PortConflict".equals(c.getReason()));
    });
  }
}
