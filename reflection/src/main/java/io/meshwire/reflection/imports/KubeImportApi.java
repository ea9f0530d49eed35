package io.meshwire.reflection.imports;

import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.common.KubernetesType;
import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointConditions;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1EndpointSliceList;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Preconditions;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceList;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;
import io.kubernetes.client.util.generic.GenericKubernetesApi;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.options.DeleteOptions;
import io.kubernetes.client.util.generic.options.ListOptions;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceType;
import io.meshwire.reflection.imports.ImportedObject.DerivedServiceObject;
import io.meshwire.reflection.imports.ImportedObject.ServiceImportObject;
import io.meshwire.reflection.imports.ImportedObject.SliceEndpoint;
import io.meshwire.reflection.imports.ImportedObject.SliceObject;
import io.kubernetes.client.openapi.ApiException;
import io.meshwire.reflection.kube.KubeApis;
import io.meshwire.reflection.kube.StatusWriter;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.V1alpha1ServiceImport;
import io.meshwire.reflection.kube.V1alpha1ServiceImportList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * {@code KubeImportApi} is {@link ImportApi} over the official client's generic API: it maps
 * {@link ImportedObject}s to ServiceImports, Services and EndpointSlices and back. Updates are
 * read-modify-write: only the parts meshwire owns (its labels and annotation, ports, endpoints,
 * type) are replaced, everything else the object carries is kept, and the write is conditional on
 * the resourceVersion the plan was made from. Thread-safe (stateless over a thread-safe client).
 */
public final class KubeImportApi implements ImportApi {

  private final GenericKubernetesApi<V1alpha1ServiceImport, V1alpha1ServiceImportList> imports;
  private final GenericKubernetesApi<V1Service, V1ServiceList> services;
  private final GenericKubernetesApi<V1EndpointSlice, V1EndpointSliceList> slices;
  private final StatusWriter statusWriter;

  public KubeImportApi(ApiClient client) {
    this.imports = KubeApis.serviceImports(client);
    this.services = KubeApis.services(client);
    this.slices = KubeApis.endpointSlices(client);
    this.statusWriter = new StatusWriter(client);
  }

  @Override
  public Map<ObjectKey, Observed> list() throws KubeApiException {
    Map<ObjectKey, Observed> out = new HashMap<>();
    for (V1alpha1ServiceImport i : check(imports.list(new ListOptions()), "list serviceimports").getItems()) {
      Observed o = observe(i);
      out.put(o.key(), o);
    }
    ListOptions managedServices = new ListOptions().labelSelector(Mcs.LABEL_MANAGED_BY + "=" + Mcs.MANAGER);
    for (V1Service s : check(services.list(managedServices), "list services").getItems()) {
      Observed o = observe(s);
      out.put(o.key(), o);
    }
    ListOptions managedSlices = new ListOptions().labelSelector(Mcs.LABEL_SLICE_MANAGED_BY + "=" + Mcs.MANAGER);
    for (V1EndpointSlice s : check(slices.list(managedSlices), "list endpointslices").getItems()) {
      Observed o = observe(s);
      out.put(o.key(), o);
    }
    return out;
  }

  @Override
  public Optional<Observed> get(ObjectKey key) throws KubeApiException {
    String what = "get " + key;
    return switch (key.kind()) {
      case SERVICE_IMPORT -> found(() -> imports.get(key.namespace(), key.name()), what).map(KubeImportApi::observe);
      case SERVICE -> found(() -> services.get(key.namespace(), key.name()), what).map(KubeImportApi::observe);
      case ENDPOINT_SLICE -> found(() -> slices.get(key.namespace(), key.name()), what).map(KubeImportApi::observe);
    };
  }

  private static <T extends KubernetesObject> Optional<T> found(Supplier<KubernetesApiResponse<T>> call, String what)
      throws KubeApiException {
    try {
      KubernetesApiResponse<T> r = call.get();
      return r.getHttpStatusCode() == 404 ? Optional.empty() : Optional.of(check(r, what));
    } catch (RuntimeException e) {
      // The generic API throws instead of answering when an error body is not a Status.
      if (e.getCause() instanceof ApiException api) {
        if (api.getCode() == 404) {
          return Optional.empty();
        }
        throw new KubeApiException(api.getCode(), what + ": HTTP " + api.getCode() + " " + api.getMessage());
      }
      throw e;
    }
  }

  @Override
  public void create(ImportedObject object) throws KubeApiException {
    switch (object) {
      case ServiceImportObject i -> {
        V1alpha1ServiceImport created = check(imports.create(toServiceImport(i, new V1alpha1ServiceImport())),
            "create " + i.key());
        writeImportStatus(created, i);
      }
      case DerivedServiceObject s -> check(services.create(toService(s, new V1Service())), "create " + s.key());
      case SliceObject s -> check(slices.create(toSlice(s, new V1EndpointSlice())), "create " + s.key());
    }
  }

  @Override
  public void update(ImportedObject object, String resourceVersion) throws KubeApiException {
    ObjectKey key = object.key();
    switch (object) {
      case ServiceImportObject i -> {
        V1alpha1ServiceImport current = current(imports.get(key.namespace(), key.name()), key, resourceVersion);
        V1alpha1ServiceImport updated = check(imports.update(toServiceImport(i, current)), "update " + key);
        writeImportStatus(updated, i);
      }
      case DerivedServiceObject s -> {
        V1Service current = current(services.get(key.namespace(), key.name()), key, resourceVersion);
        boolean wasHeadless = current.getSpec() != null && "None".equals(current.getSpec().getClusterIP());
        if (wasHeadless != s.headless()) {
          // spec.clusterIP is immutable: the type changed (another export won), so re-create.
          delete(key, resourceVersion);
          create(s);
          return;
        }
        check(services.update(toService(s, current)), "update " + key);
      }
      case SliceObject s -> {
        V1EndpointSlice current = current(slices.get(key.namespace(), key.name()), key, resourceVersion);
        check(slices.update(toSlice(s, current)), "update " + key);
      }
    }
  }

  @Override
  public void delete(ObjectKey key, String resourceVersion) throws KubeApiException {
    DeleteOptions options = new DeleteOptions();
    options.setPreconditions(new V1Preconditions().resourceVersion(resourceVersion));
    KubernetesApiResponse<? extends KubernetesObject> r = switch (key.kind()) {
      case SERVICE_IMPORT -> imports.delete(key.namespace(), key.name(), options);
      case SERVICE -> services.delete(key.namespace(), key.name(), options);
      case ENDPOINT_SLICE -> slices.delete(key.namespace(), key.name(), options);
    };
    if (r.getHttpStatusCode() != 404 && !r.isSuccess()) {
      String message = r.getStatus() == null ? "" : r.getStatus().getMessage();
      throw new KubeApiException(r.getHttpStatusCode(), "delete " + key + ": HTTP " + r.getHttpStatusCode() + " " + message);
    }
  }

  private void writeImportStatus(V1alpha1ServiceImport object, ServiceImportObject wanted) throws KubeApiException {
    List<V1alpha1ServiceImport.ClusterStatus> clusters = wanted.clusters().stream()
        .map(V1alpha1ServiceImport.ClusterStatus::new).toList();
    try {
      statusWriter.write("serviceimports", wanted.namespace(), wanted.name(),
          new V1alpha1ServiceImport.Status().clusters(clusters));
    } catch (ApiException e) {
      throw new KubeApiException(e.getCode(), "update status of " + wanted.key() + ": HTTP " + e.getCode());
    }
  }

  private static <T extends KubernetesObject> T current(KubernetesApiResponse<T> r, ObjectKey key,
      String resourceVersion) throws KubeApiException {
    T current = check(r, "get " + key);
    V1ObjectMeta meta = current.getMetadata();
    if (!resourceVersion.equals(meta.getResourceVersion())) {
      throw new KubeApiException(409, key + " changed since it was read (resourceVersion " + resourceVersion + " -> "
          + meta.getResourceVersion() + ")");
    }
    if (!managed(meta)) {
      throw new KubeApiException(409, key + " lost its managed-by label");
    }
    return current;
  }

  private static <T extends KubernetesType> T check(KubernetesApiResponse<T> r, String what) throws KubeApiException {
    if (!r.isSuccess()) {
      String message = r.getStatus() == null ? "" : r.getStatus().getMessage();
      throw new KubeApiException(r.getHttpStatusCode(), what + ": HTTP " + r.getHttpStatusCode() + " " + message);
    }
    return r.getObject();
  }

  // ---- mapping -------------------------------------------------------------------------------

  static boolean managed(V1ObjectMeta meta) {
    Map<String, String> labels = meta.getLabels() == null ? Map.of() : meta.getLabels();
    return Mcs.MANAGER.equals(labels.get(Mcs.LABEL_MANAGED_BY)) || Mcs.MANAGER.equals(labels.get(Mcs.LABEL_SLICE_MANAGED_BY));
  }

  private static Map<String, String> labels(V1ObjectMeta meta) {
    return meta.getLabels() == null ? Map.of() : meta.getLabels();
  }

  private static V1ObjectMeta meta(V1ObjectMeta base, String namespace, String name, Map<String, String> ownLabels) {
    V1ObjectMeta meta = base == null ? new V1ObjectMeta() : base;
    Map<String, String> labels = new TreeMap<>(labels(meta));
    labels.putAll(ownLabels);
    return meta.namespace(namespace).name(name).labels(labels);
  }

  static V1alpha1ServiceImport toServiceImport(ServiceImportObject i, V1alpha1ServiceImport base) {
    V1ObjectMeta meta = meta(base.getMetadata(), i.namespace(), i.name(), Map.of(Mcs.LABEL_MANAGED_BY, Mcs.MANAGER));
    Map<String, String> annotations = new TreeMap<>(meta.getAnnotations() == null ? Map.of() : meta.getAnnotations());
    annotations.put(Mcs.ANNOTATION_DERIVED_SERVICE, i.derivedService());
    meta.annotations(annotations);
    List<V1alpha1ServiceImport.Port> ports = i.ports().stream()
        .map(p -> new V1alpha1ServiceImport.Port(nullIfEmpty(p.name()), p.protocol(), p.port(), nullIfEmpty(p.appProtocol())))
        .toList();
    V1alpha1ServiceImport.Spec spec = base.getSpec() == null ? new V1alpha1ServiceImport.Spec() : base.getSpec();
    spec.type(i.type().mcsName()).ports(ports).ips(i.ips());
    return base.metadata(meta).spec(spec).status(new V1alpha1ServiceImport.Status().clusters(
        i.clusters().stream().map(V1alpha1ServiceImport.ClusterStatus::new).toList()));
  }

  static Observed observe(V1alpha1ServiceImport i) {
    V1ObjectMeta meta = i.getMetadata();
    V1alpha1ServiceImport.Spec spec = i.getSpec() == null ? new V1alpha1ServiceImport.Spec() : i.getSpec();
    ServiceType type = "Headless".equals(spec.getType()) ? ServiceType.HEADLESS : ServiceType.CLUSTER_SET_IP;
    List<ServicePort> ports = spec.getPorts().stream()
        .map(p -> new ServicePort(orEmpty(p.getName()), orEmpty(p.getProtocol()), p.getPort() == null ? 0 : p.getPort(),
            orEmpty(p.getAppProtocol())))
        .toList();
    List<String> clusters = i.getStatus() == null ? List.of()
        : i.getStatus().getClusters().stream().map(V1alpha1ServiceImport.ClusterStatus::getCluster).sorted().toList();
    String derived = meta.getAnnotations() == null ? "" : orEmpty(meta.getAnnotations().get(Mcs.ANNOTATION_DERIVED_SERVICE));
    return new Observed(new ServiceImportObject(meta.getNamespace(), meta.getName(), type, ports, spec.getIps(), clusters,
        derived), meta.getResourceVersion(), managed(meta));
  }

  static V1Service toService(DerivedServiceObject s, V1Service base) {
    V1ObjectMeta meta = meta(base.getMetadata(), s.namespace(), s.name(),
        Map.of(Mcs.LABEL_MANAGED_BY, Mcs.MANAGER, Mcs.LABEL_SERVICE_NAME, s.serviceName()));
    V1ServiceSpec spec = base.getSpec() == null ? new V1ServiceSpec() : base.getSpec();
    spec.type("ClusterIP").selector(null).ports(s.ports().stream()
        .map(p -> new V1ServicePort().name(nullIfEmpty(p.name())).protocol(p.protocol()).port(p.port())
            .targetPort(new IntOrString(p.port())).appProtocol(nullIfEmpty(p.appProtocol())))
        .toList());
    if (s.headless()) {
      spec.clusterIP("None");
    }
    return base.apiVersion("v1").kind("Service").metadata(meta).spec(spec);
  }

  static Observed observe(V1Service s) {
    V1ObjectMeta meta = s.getMetadata();
    V1ServiceSpec spec = s.getSpec() == null ? new V1ServiceSpec() : s.getSpec();
    List<ServicePort> ports = spec.getPorts() == null ? List.of() : spec.getPorts().stream()
        .map(p -> new ServicePort(orEmpty(p.getName()), orEmpty(p.getProtocol()), p.getPort() == null ? 0 : p.getPort(),
            orEmpty(p.getAppProtocol())))
        .toList();
    String clusterIp = orEmpty(spec.getClusterIP());
    return new Observed(new DerivedServiceObject(meta.getNamespace(), meta.getName(),
        orEmpty(labels(meta).get(Mcs.LABEL_SERVICE_NAME)), "None".equals(clusterIp), ports),
        meta.getResourceVersion(), managed(meta), clusterIp);
  }

  static V1EndpointSlice toSlice(SliceObject s, V1EndpointSlice base) {
    V1ObjectMeta meta = meta(base.getMetadata(), s.namespace(), s.name(), Map.of(
        Mcs.LABEL_SLICE_MANAGED_BY, Mcs.MANAGER,
        Mcs.LABEL_SERVICE_NAME, s.serviceName(),
        Mcs.LABEL_SOURCE_CLUSTER, s.sourceCluster(),
        Mcs.LABEL_KUBE_SERVICE_NAME, s.derivedService()));
    List<DiscoveryV1EndpointPort> ports = s.ports().stream()
        .map(p -> new DiscoveryV1EndpointPort().name(p.name()).protocol(p.protocol()).port(p.port())
            .appProtocol(nullIfEmpty(p.appProtocol())))
        .toList();
    List<V1Endpoint> endpoints = new ArrayList<>();
    for (SliceEndpoint e : s.endpoints()) {
      endpoints.add(new V1Endpoint().addresses(e.addresses())
          .conditions(new V1EndpointConditions().ready(e.ready()).serving(e.serving()).terminating(e.terminating()))
          .hostname(nullIfEmpty(e.hostname())).zone(nullIfEmpty(e.zone())));
    }
    return base.apiVersion("discovery.k8s.io/v1").kind("EndpointSlice").metadata(meta).addressType(s.addressType())
        .ports(ports).endpoints(endpoints);
  }

  static Observed observe(V1EndpointSlice s) {
    V1ObjectMeta meta = s.getMetadata();
    Map<String, String> labels = labels(meta);
    List<ServicePort> ports = s.getPorts() == null ? List.of() : s.getPorts().stream()
        .map(p -> new ServicePort(orEmpty(p.getName()), orEmpty(p.getProtocol()), p.getPort() == null ? 0 : p.getPort(),
            orEmpty(p.getAppProtocol())))
        .toList();
    List<SliceEndpoint> endpoints = s.getEndpoints() == null ? List.of() : s.getEndpoints().stream()
        .map(e -> {
          V1EndpointConditions c = e.getConditions() == null ? new V1EndpointConditions() : e.getConditions();
          return new SliceEndpoint(e.getAddresses() == null ? List.of() : e.getAddresses(),
              Boolean.TRUE.equals(c.getReady()), Boolean.TRUE.equals(c.getServing()), Boolean.TRUE.equals(c.getTerminating()),
              orEmpty(e.getHostname()), orEmpty(e.getZone()));
        })
        .toList();
    return new Observed(new SliceObject(meta.getNamespace(), meta.getName(), orEmpty(labels.get(Mcs.LABEL_SERVICE_NAME)),
        orEmpty(labels.get(Mcs.LABEL_SOURCE_CLUSTER)), orEmpty(labels.get(Mcs.LABEL_KUBE_SERVICE_NAME)),
        orEmpty(s.getAddressType()), ports, endpoints), meta.getResourceVersion(), managed(meta));
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private static String nullIfEmpty(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
