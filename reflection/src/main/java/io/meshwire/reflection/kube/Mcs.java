package io.meshwire.reflection.kube;

/**
 * {@code Mcs} holds the names the Multi-Cluster Services API (KEP-1645, {@code
 * multicluster.x-k8s.io/v1alpha1}) and meshwire put on Kubernetes objects.
 */
public final class Mcs {

  private Mcs() {}

  public static final String GROUP = "multicluster.x-k8s.io";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;

  /** On imported EndpointSlices and derived Services: the exported service's name. */
  public static final String LABEL_SERVICE_NAME = "multicluster.kubernetes.io/service-name";
  /** On imported EndpointSlices: the cluster the endpoints come from. */
  public static final String LABEL_SOURCE_CLUSTER = "multicluster.kubernetes.io/source-cluster";
  /** On imported EndpointSlices: who maintains them (so the EndpointSlice controller leaves them alone). */
  public static final String LABEL_SLICE_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
  /** On ServiceImports and derived Services: who maintains them. */
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  /** The value of both managed-by labels on everything meshwire owns. */
  public static final String MANAGER = "meshwire.io";
  /** The label kube-proxy and CoreDNS use to find a Service's EndpointSlices. */
  public static final String LABEL_KUBE_SERVICE_NAME = "kubernetes.io/service-name";
  /** On a ServiceImport: the name of its derived Service. */
  public static final String ANNOTATION_DERIVED_SERVICE = "multicluster.kubernetes.io/derived-service";

  /** ServiceExport condition: the export names a Service that can be exported. */
  public static final String CONDITION_VALID = "Valid";
  /** ServiceExport condition: another cluster exports the same service with other properties. */
  public static final String CONDITION_CONFLICT = "Conflict";
}
