package io.meshwire.reflection.kube;

import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1Endpoint;
import io.kubernetes.client.openapi.models.V1EndpointConditions;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Builders of Kubernetes objects for tests. */
public final class KubeObjects {

  private KubeObjects() {}

  public static V1alpha1ServiceExport export(String ns, String name, Instant created) {
    return new V1alpha1ServiceExport().metadata(new V1ObjectMeta().namespace(ns).name(name)
        .creationTimestamp(created == null ? null : created.atOffset(ZoneOffset.UTC)));
  }

  public static V1Service service(String ns, String name, int port) {
    return new V1Service().apiVersion("v1").kind("Service").metadata(new V1ObjectMeta().namespace(ns).name(name))
        .spec(new V1ServiceSpec().type("ClusterIP").selector(Map.of("app", name))
            .ports(List.of(new V1ServicePort().name("http").protocol("TCP").port(port))));
  }

  public static V1EndpointSlice slice(String ns, String name, String service, int targetPort, V1Endpoint... endpoints) {
    Map<String, String> labels = new HashMap<>();
    labels.put(Mcs.LABEL_KUBE_SERVICE_NAME, service);
    return new V1EndpointSlice().apiVersion("discovery.k8s.io/v1").kind("EndpointSlice")
        .metadata(new V1ObjectMeta().namespace(ns).name(name).labels(labels))
        .addressType("IPv4")
        .ports(List.of(new DiscoveryV1EndpointPort().name("http").protocol("TCP").port(targetPort)))
        .endpoints(List.of(endpoints));
  }

  public static V1Endpoint endpoint(String address, Boolean ready) {
    return new V1Endpoint().addresses(List.of(address))
        .conditions(new V1EndpointConditions().ready(ready).serving(ready).terminating(false));
  }
}
