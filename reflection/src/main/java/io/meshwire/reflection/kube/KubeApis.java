package io.meshwire.reflection.kube;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1EndpointSliceList;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceList;
import io.kubernetes.client.util.generic.GenericKubernetesApi;

/**
 * {@code KubeApis} makes the official client's generic APIs for the four kinds reflection reads and
 * writes. Stateless; the APIs it returns are thread-safe (they share {@code client}).
 */
public final class KubeApis {

  private KubeApis() {}

  public static GenericKubernetesApi<V1alpha1ServiceExport, V1alpha1ServiceExportList> serviceExports(ApiClient client) {
    return new GenericKubernetesApi<>(V1alpha1ServiceExport.class, V1alpha1ServiceExportList.class, Mcs.GROUP,
        Mcs.VERSION, "serviceexports", client);
  }

  public static GenericKubernetesApi<V1alpha1ServiceImport, V1alpha1ServiceImportList> serviceImports(ApiClient client) {
    return new GenericKubernetesApi<>(V1alpha1ServiceImport.class, V1alpha1ServiceImportList.class, Mcs.GROUP,
        Mcs.VERSION, "serviceimports", client);
  }

  public static GenericKubernetesApi<V1Service, V1ServiceList> services(ApiClient client) {
    return new GenericKubernetesApi<>(V1Service.class, V1ServiceList.class, "", "v1", "services", client);
  }

  public static GenericKubernetesApi<V1EndpointSlice, V1EndpointSliceList> endpointSlices(ApiClient client) {
    return new GenericKubernetesApi<>(V1EndpointSlice.class, V1EndpointSliceList.class, "discovery.k8s.io", "v1",
        "endpointslices", client);
  }
}
