package io.meshwire.reflection.imports;

import static io.meshwire.reflection.catalog.TestServices.T0;
import static io.meshwire.reflection.catalog.TestServices.ep;
import static io.meshwire.reflection.catalog.TestServices.web;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.util.generic.options.ListOptions;
import io.meshwire.netaddr.Cidr;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.ServiceRef;
import io.meshwire.reflection.kube.FakeApiServer;
import io.meshwire.reflection.kube.KubeApis;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.V1alpha1ServiceImport;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The importer against fabric8's CRUD mock through the official client. */
class KubeImportTest {

  private static final String DERIVED = ImportPlanner.derivedServiceName(new ServiceRef("shop", "web"));
  private static final Function<InetAddress, InetAddress> PLUS_100 = a -> {
    byte[] b = a.getAddress();
    b[1] = (byte) (b[1] + 100);
    return Cidr.parseAddress((b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff));
  };

  private FakeApiServer api;
  private ApiClient client;
  private ServiceImporter importer;

  @BeforeEach
  void start() throws Exception {
    api = new FakeApiServer();
    client = api.client();
    importer = new ServiceImporter(new KubeImportApi(client));
  }

  @AfterEach
  void stop() {
    api.close();
  }

  private List<V1EndpointSlice> slices() {
    return KubeApis.endpointSlices(client).list("shop").getObject().getItems();
  }

  private Catalog catalogOfB(int endpoints) {
    List<io.meshwire.reflection.catalog.Endpoint> eps = new java.util.ArrayList<>();
    for (int i = 1; i <= endpoints; i++) {
      eps.add(ep("10.0.0." + i, 8080));
    }
    return Catalog.empty("b").next(List.of(web("shop", T0, 80, eps.toArray(io.meshwire.reflection.catalog.Endpoint[]::new))));
  }

  @Test
  void createsImportDerivedServiceAndSlicesThenConverges() throws Exception {
    importer.putSource("b", catalogOfB(2), PLUS_100);
    ServiceImporter.Result first = importer.reconcile();
    assertTrue(first.converged(), first.toString());
    assertEquals(3, first.created(), first.toString());

    V1alpha1ServiceImport imported = KubeApis.serviceImports(client).get("shop", "web").getObject();
    assertEquals("ClusterSetIP", imported.getSpec().getType());
    assertEquals(List.of("b"), imported.getStatus().getClusters().stream().map(V1alpha1ServiceImport.ClusterStatus::getCluster).toList());
    assertEquals(DERIVED, imported.getMetadata().getAnnotations().get(Mcs.ANNOTATION_DERIVED_SERVICE));
    V1Service derived = KubeApis.services(client).get("shop", DERIVED).getObject();
    assertEquals("web", derived.getMetadata().getLabels().get(Mcs.LABEL_SERVICE_NAME));
    V1EndpointSlice slice = slices().get(0);
    Map<String, String> labels = slice.getMetadata().getLabels();
    assertEquals("web", labels.get(Mcs.LABEL_SERVICE_NAME));
    assertEquals("b", labels.get(Mcs.LABEL_SOURCE_CLUSTER));
    assertEquals(Mcs.MANAGER, labels.get(Mcs.LABEL_SLICE_MANAGED_BY));
    assertEquals(DERIVED, labels.get(Mcs.LABEL_KUBE_SERVICE_NAME));
    assertEquals(List.of("10.100.0.1", "10.100.0.2"), slice.getEndpoints().stream().map(e -> e.getAddresses().get(0)).toList());

    ServiceImporter.Result again = importer.reconcile();
    assertEquals(0, again.created() + again.updated() + again.deleted(), "read back equals desired: " + again);
  }

  @Test
  void tunnelDownTurnsEndpointsNotReadyAndBack() throws Exception {
    importer.putSource("b", catalogOfB(1), PLUS_100);
    importer.reconcile();
    importer.setSourceReady("b", false);
    assertEquals(1, importer.reconcile().updated());
    assertFalse(slices().get(0).getEndpoints().get(0).getConditions().getReady());
    importer.setSourceReady("b", true);
    importer.reconcile();
    assertTrue(slices().get(0).getEndpoints().get(0).getConditions().getReady());
  }

  @Test
  void unexportAndRemovalDeleteEverythingOfTheSource() throws Exception {
    importer.putSource("b", catalogOfB(1), PLUS_100);
    importer.putSource("c", Catalog.empty("c").next(List.of(web("shop", T0, 80, ep("10.0.0.9", 8080)))), Function.identity());
    importer.reconcile();
    assertEquals(2, slices().size());

    importer.removeSource("c");
    importer.reconcile();
    assertEquals(List.of("b"), slices().stream().map(s -> s.getMetadata().getLabels().get(Mcs.LABEL_SOURCE_CLUSTER)).toList());

    importer.putSource("b", Catalog.empty("b"), PLUS_100); // b unexported web
    ServiceImporter.Result result = importer.reconcile();
    assertEquals(3, result.deleted(), result.toString());
    assertEquals(Optional.empty(), new KubeImportApi(client).get(new ObjectKey(ObjectKey.Kind.SERVICE_IMPORT, "shop", "web")));
    assertEquals(Optional.empty(), new KubeImportApi(client).get(new ObjectKey(ObjectKey.Kind.SERVICE, "shop", DERIVED)));
  }

  @Test
  void objectsWithoutTheManagedByLabelAreReportedNeverTouched() throws Exception {
    V1alpha1ServiceImport foreign = new V1alpha1ServiceImport()
        .metadata(new V1ObjectMeta().namespace("shop").name("web"))
        .spec(new V1alpha1ServiceImport.Spec().type("Headless"));
    assertTrue(KubeApis.serviceImports(client).create(foreign).isSuccess());
    V1Service squatter = new V1Service().apiVersion("v1").kind("Service")
        .metadata(new V1ObjectMeta().namespace("shop").name(DERIVED))
        .spec(new io.kubernetes.client.openapi.models.V1ServiceSpec().type("ClusterIP"));
    assertTrue(KubeApis.services(client).create(squatter).isSuccess());

    importer.putSource("b", catalogOfB(1), PLUS_100);
    ServiceImporter.Result result = importer.reconcile();
    assertEquals(2, result.refused().size(), result.toString());
    assertEquals("Headless", KubeApis.serviceImports(client).get("shop", "web").getObject().getSpec().getType());
    Map<String, String> squatterLabels = KubeApis.services(client).get("shop", DERIVED).getObject().getMetadata().getLabels();
    assertTrue(squatterLabels == null || !squatterLabels.containsKey(Mcs.LABEL_MANAGED_BY), String.valueOf(squatterLabels));

    importer.removeSource("b");
    importer.reconcile();
    assertEquals(200, KubeApis.serviceImports(client).get("shop", "web").getHttpStatusCode(), "not ours: not deleted");
  }

  @Test
  void aConcurrentWriteIsAConflictThatIsRereadAndRetried() throws Exception {
    importer.putSource("b", catalogOfB(1), PLUS_100);
    importer.reconcile();
    AtomicBoolean raced = new AtomicBoolean();
    KubeImportApi real = new KubeImportApi(client);
    ImportApi racing = new ImportApi() {
      @Override
      public Map<ObjectKey, Observed> list() throws KubeApiException {
        return real.list();
      }

      @Override
      public Optional<Observed> get(ObjectKey key) throws KubeApiException {
        return real.get(key);
      }

      @Override
      public void create(ImportedObject object) throws KubeApiException {
        real.create(object);
      }

      @Override
      public void update(ImportedObject object, String resourceVersion) throws KubeApiException {
        if (object instanceof ImportedObject.SliceObject && raced.compareAndSet(false, true)) {
          // Someone else writes the slice between our list and our update.
          var slices = KubeApis.endpointSlices(client);
          V1EndpointSlice s = slices.get(object.key().namespace(), object.key().name()).getObject();
          s.getMetadata().putAnnotationsItem("touched", "yes");
          slices.update(s);
        }
        real.update(object, resourceVersion);
      }

      @Override
      public void delete(ObjectKey key, String resourceVersion) throws KubeApiException {
        real.delete(key, resourceVersion);
      }
    };
    ServiceImporter racer = new ServiceImporter(racing);
    racer.putSource("b", catalogOfB(2), PLUS_100);
    ServiceImporter.Result result = racer.reconcile();
    assertTrue(raced.get());
    assertEquals(1, result.conflicts(), result.toString());
    assertTrue(result.converged(), result.toString());
    V1EndpointSlice slice = slices().get(0);
    assertEquals(2, slice.getEndpoints().size());
    assertEquals("yes", slice.getMetadata().getAnnotations().get("touched"), "the other writer's change is kept");
  }

  @Test
  void listsOnlyManagedServicesAndSlices() throws Exception {
    importer.putSource("b", catalogOfB(1), PLUS_100);
    importer.reconcile();
    KubeApis.services(client).create(new V1Service().apiVersion("v1").kind("Service")
        .metadata(new V1ObjectMeta().namespace("shop").name("unrelated")));
    Map<ObjectKey, Observed> actual = new KubeImportApi(client).list();
    assertEquals(3, actual.size(), actual.keySet().toString());
    assertEquals(1, KubeApis.services(client).list("shop", new ListOptions().labelSelector(Mcs.LABEL_MANAGED_BY + "=" + Mcs.MANAGER))
        .getObject().getItems().size());
  }
}
