package io.meshwire.reflection.kube;

import com.google.gson.annotations.SerializedName;
import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.openapi.models.V1ListMeta;
import java.util.ArrayList;
import java.util.List;

/** {@code V1alpha1ServiceExportList} is a list of {@link V1alpha1ServiceExport}s as the API returns it. */
public final class V1alpha1ServiceExportList implements KubernetesListObject {

  @SerializedName("apiVersion")
  private String apiVersion = Mcs.API_VERSION;

  @SerializedName("kind")
  private String kind = "ServiceExportList";

  @SerializedName("metadata")
  private V1ListMeta metadata = new V1ListMeta();

  @SerializedName("items")
  private List<V1alpha1ServiceExport> items = new ArrayList<>();

  @Override
  public V1ListMeta getMetadata() {
    return metadata;
  }

  @Override
  public List<V1alpha1ServiceExport> getItems() {
    return items == null ? List.of() : items;
  }

  @Override
  public String getApiVersion() {
    return apiVersion;
  }

  @Override
  public String getKind() {
    return kind;
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
