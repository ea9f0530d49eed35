package io.meshwire.reflection.kube;

import com.google.gson.annotations.SerializedName;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.models.V1Condition;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code V1alpha1ServiceExport} is the {@code multicluster.x-k8s.io/v1alpha1} ServiceExport: its
 * existence marks the Service of the same namespace and name for export; its status carries the
 * {@code Valid} and {@code Conflict} conditions. A plain Gson-mapped model for the official
 * client's generic API and informers (the client ships no MCS types). Mutable, like the client's
 * own models.
 */
public final class V1alpha1ServiceExport implements KubernetesObject {

  @SerializedName("apiVersion")
  private String apiVersion = Mcs.API_VERSION;

  @SerializedName("kind")
  private String kind = "ServiceExport";

  @SerializedName("metadata")
  private V1ObjectMeta metadata = new V1ObjectMeta();

  @SerializedName("status")
  private Status status;

  /** The observed state of an export. */
  public static final class Status {
    @SerializedName("conditions")
    private List<V1Condition> conditions = new ArrayList<>();

    public List<V1Condition> getConditions() {
      return conditions == null ? List.of() : conditions;
    }

    public Status conditions(List<V1Condition> replaced) {
      this.conditions = new ArrayList<>(replaced);
      return this;
    }
  }

  @Override
  public V1ObjectMeta getMetadata() {
    return metadata;
  }

  public V1alpha1ServiceExport metadata(V1ObjectMeta replaced) {
    this.metadata = replaced;
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

  public Status getStatus() {
    return status;
  }

  public V1alpha1ServiceExport status(Status replaced) {
    this.status = replaced;
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
