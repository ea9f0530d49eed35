package io.meshwire.reflection.kube;

import com.google.gson.annotations.SerializedName;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code V1alpha1ServiceImport} is the {@code multicluster.x-k8s.io/v1alpha1} ServiceImport: the
 * clusterset-wide view of an exported service in an importing cluster (type, ports, the
 * clusterset IPs, the clusters behind it). A plain Gson-mapped model (the client ships no MCS
 * types). Mutable, like the client's own models.
 */
public final class V1alpha1ServiceImport implements KubernetesObject {

  @SerializedName("apiVersion")
  private String apiVersion = Mcs.API_VERSION;

  @SerializedName("kind")
  private String kind = "ServiceImport";

  @SerializedName("metadata")
  private V1ObjectMeta metadata = new V1ObjectMeta();

  @SerializedName("spec")
  private Spec spec = new Spec();

  @SerializedName("status")
  private Status status;

  /** What importers expose. */
  public static final class Spec {
    @SerializedName("type")
    private String type;

    @SerializedName("ports")
    private List<Port> ports = new ArrayList<>();

    @SerializedName("ips")
    private List<String> ips;

    public String getType() {
      return type;
    }

    public Spec type(String value) {
      this.type = value;
      return this;
    }

    public List<Port> getPorts() {
      return ports == null ? List.of() : ports;
    }

    public Spec ports(List<Port> value) {
      this.ports = new ArrayList<>(value);
      return this;
    }

    public List<String> getIps() {
      return ips == null ? List.of() : ips;
    }

    public Spec ips(List<String> value) {
      this.ips = value.isEmpty() ? null : new ArrayList<>(value);
      return this;
    }
  }

  /** One port of the imported service. */
  public static final class Port {
    @SerializedName("name")
    private String name;

    @SerializedName("protocol")
    private String protocol;

    @SerializedName("port")
    private Integer port;

    @SerializedName("appProtocol")
    private String appProtocol;

    public Port() {}

    public Port(String name, String protocol, int port, String appProtocol) {
      this.name = name;
      this.protocol = protocol;
      this.port = port;
      this.appProtocol = appProtocol;
    }

    public String getName() {
      return name;
    }

    public String getProtocol() {
      return protocol;
    }

    public Integer getPort() {
      return port;
    }

    public String getAppProtocol() {
      return appProtocol;
    }
  }

  /** Which clusters currently back the import. */
  public static final class Status {
    @SerializedName("clusters")
    private List<ClusterStatus> clusters = new ArrayList<>();

    public List<ClusterStatus> getClusters() {
      return clusters == null ? List.of() : clusters;
    }

    public Status clusters(List<ClusterStatus> value) {
      this.clusters = new ArrayList<>(value);
      return this;
    }
  }

  /** One source cluster of an import. */
  public static final class ClusterStatus {
    @SerializedName("cluster")
    private String cluster;

    public ClusterStatus() {}

    public ClusterStatus(String cluster) {
      this.cluster = cluster;
    }

    public String getCluster() {
      return cluster;
    }
  }

  @Override
  public V1ObjectMeta getMetadata() {
    return metadata;
  }

  public V1alpha1ServiceImport metadata(V1ObjectMeta value) {
    this.metadata = value;
    return this;
  }

  @Override
  public String getApiVersion() {
    return apiVersion;
  }

  @Override
  public String getKind() {
    return kind;
  }

  public Spec getSpec() {
    return spec;
  }

  public V1alpha1ServiceImport spec(Spec value) {
    this.spec = value;
    return this;
  }

  public Status getStatus() {
    return status;
  }

  public V1alpha1ServiceImport status(Status value) {
    this.status = value;
    return this;
  }

  /** Set by informers on list items (lists carry the type only once). */
  public void setApiVersion(String value) {
    this.apiVersion = value;
  }

  /** Set by informers on list items (lists carry the type only once). */
  public void setKind(String value) {
    this.kind = value;
  }
}
