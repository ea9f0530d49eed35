package io.meshwire.reflection.kube;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.util.PatchUtils;

/**
 * {@code StatusWriter} sets the status subresource of an MCS object with one JSON patch
 * {@code add /status}. Not {@code GenericKubernetesApi.updateStatus}: that sends
 * {@code replace /status}, which the API server refuses while an object has no status yet (as every
 * freshly created ServiceExport). {@code add} creates or replaces. Thread-safe.
 */
public final class StatusWriter {

  private final ApiClient client;
  private final CustomObjectsApi api;

  public StatusWriter(ApiClient client) {
    this.client = client;
    this.api = new CustomObjectsApi(client);
  }

  /**
   * Replaces the status of {@code plural} {@code namespace/name} with {@code status}.
   *
   * @throws ApiException with the HTTP code when the API refuses (404 gone, 409, ...)
   */
  public void write(String plural, String namespace, String name, Object status) throws ApiException {
    String patch = "[{\"op\":\"add\",\"path\":\"/status\",\"value\":" + JSON.serialize(status) + "}]";
    PatchUtils.patch(Object.class,
        () -> api.patchNamespacedCustomObjectStatus(Mcs.GROUP, Mcs.VERSION, namespace, plural, name, new V1Patch(patch))
            .buildCall(null),
        V1Patch.PATCH_FORMAT_JSON_PATCH, client);
  }
}
