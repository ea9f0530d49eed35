package io.meshwire.reflection.export;

import io.kubernetes.client.openapi.models.DiscoveryV1EndpointPort;
import io.kubernetes.client.openapi.models.V1EndpointConditions;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.meshwire.netaddr.Cidr;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.catalog.Conflicts;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceRef;
import io.meshwire.reflection.catalog.ServiceType;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.V1alpha1ServiceExport;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * {@code CatalogBuilder} turns what the cluster's API holds (ServiceExports, Services,
 * EndpointSlices) into the services this cluster exports and the conditions each ServiceExport
 * should carry. Pure: the same inputs always give the same plan, so the export side is tested with
 * tables and no API server.
 *
 * <ul>
 *   <li>{@code Valid}: {@code False/ServiceNotFound} without a Service of the same name,
 *       {@code False/ServiceTypeInvalid} for an ExternalName Service, {@code False/CatalogFull}
 *       beyond the catalog limit (the youngest exports are left out), else {@code True/Exported}.
 *   <li>{@code Conflict}: computed by {@link Conflicts#merge} against the other clusters' catalogs
 *       ({@code True/PortConflict}, {@code True/TypeConflict} or {@code False/NoConflicts}); the
 *       oldest export wins.
 * </ul>
 *
 * <p>Endpoints come from the Service's EndpointSlices ({@code kubernetes.io/service-name}),
 * except slices that meshwire itself manages (imports are never re-exported). Addresses that are
 * not IP literals are skipped; an endpoint listed in several slices is merged; beyond the
 * endpoint limit, ready endpoints are kept first.
 */
final class CatalogBuilder {

  private final String clusterId;
  private final CatalogLimits limits;

  public CatalogBuilder(String clusterId, CatalogLimits limits) {
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
    this.limits = limits;
  }

  /**
   * The export plan for the given objects.
   *
   * @param remotes the latest catalog of every other cluster, by cluster ID, for conflict conditions
   */
  public ExportPlan build(Collection<V1alpha1ServiceExport> exports, Collection<V1Service> services,
      Collection<V1EndpointSlice> slices, Map<String, Catalog> remotes) {
    Map<ServiceRef, V1Service> servicesByRef = new HashMap<>();
    for (V1Service s : services) {
      servicesByRef.put(ref(s.getMetadata()), s);
    }
    Map<ServiceRef, List<V1EndpointSlice>> slicesByService = new HashMap<>();
    for (V1EndpointSlice slice : slices) {
      Map<String, String> labels = labels(slice.getMetadata());
      String service = labels.get(Mcs.LABEL_KUBE_SERVICE_NAME);
      if (service == null || Mcs.MANAGER.equals(labels.get(Mcs.LABEL_SLICE_MANAGED_BY))) {
        continue;
      }
      slicesByService.computeIfAbsent(new ServiceRef(slice.getMetadata().getNamespace(), service), k -> new ArrayList<>())
          .add(slice);
    }

    List<V1alpha1ServiceExport> ordered = new ArrayList<>(exports);
    ordered.sort(Comparator.comparing((V1alpha1ServiceExport e) -> exportedAt(e)).thenComparing(e -> ref(e.getMetadata())));
    Map<ServiceRef, List<ExportCondition>> conditions = new TreeMap<>();
    List<ExportedService> out = new ArrayList<>();
    for (V1alpha1ServiceExport export : ordered) {
      ServiceRef ref = ref(export.getMetadata());
      V1Service service = servicesByRef.get(ref);
      if (service == null) {
        conditions.put(ref, List.of(ExportCondition.isFalse(Mcs.CONDITION_VALID, "ServiceNotFound",
            "Service " + ref + " does not exist")));
        continue;
      }
      String type = service.getSpec() == null ? null : service.getSpec().getType();
      if ("ExternalName".equals(type)) {
        conditions.put(ref, List.of(ExportCondition.isFalse(Mcs.CONDITION_VALID, "ServiceTypeInvalid",
            "Service " + ref + " is of type ExternalName, which cannot be exported")));
        continue;
      }
      if (out.size() >= limits.maxServices()) {
        conditions.put(ref, List.of(ExportCondition.isFalse(Mcs.CONDITION_VALID, "CatalogFull",
            "this cluster already exports " + limits.maxServices() + " services, the most a catalog may hold")));
        continue;
      }
      out.add(exported(ref, service, slicesByService.getOrDefault(ref, List.of()), exportedAt(export)));
    }
    for (ExportedService s : out) {
      conditions.put(s.ref(), List.of(
          ExportCondition.isTrue(Mcs.CONDITION_VALID, "Exported", "Service is exported to the clusterset"),
          conflict(s, remotes)));
    }
    return new ExportPlan(out, conditions);
  }

  private ExportCondition conflict(ExportedService mine, Map<String, Catalog> remotes) {
    Map<String, ExportedService> byCluster = new TreeMap<>();
    byCluster.put(clusterId, mine);
    remotes.forEach((cluster, catalog) -> {
      if (!cluster.equals(clusterId)) {
        catalog.find(mine.ref()).ifPresent(s -> byCluster.put(cluster, s));
      }
    });
    Conflicts.Conflict conflict = Conflicts.merge(byCluster).conflicts().get(clusterId);
    if (conflict == null) {
      return ExportCondition.isFalse(Mcs.CONDITION_CONFLICT, Conflicts.NO_CONFLICTS,
          byCluster.size() == 1 ? "no other cluster exports this service"
              : "consistent with the exports of " + (byCluster.size() - 1) + " other cluster(s)");
    }
    return ExportCondition.isTrue(Mcs.CONDITION_CONFLICT, conflict.reason(), conflict.message());
  }

  private ExportedService exported(ServiceRef ref, V1Service service, List<V1EndpointSlice> slices, Instant exportedAt) {
    boolean headless = service.getSpec() != null && "None".equals(service.getSpec().getClusterIP());
    List<ServicePort> ports = new ArrayList<>();
    if (service.getSpec() != null && service.getSpec().getPorts() != null) {
      for (V1ServicePort p : service.getSpec().getPorts()) {
        ports.add(new ServicePort(orEmpty(p.getName()), p.getProtocol() == null ? "TCP" : p.getProtocol(),
            p.getPort() == null ? 0 : p.getPort(), orEmpty(p.getAppProtocol())));
      }
    }
    return new ExportedService(ref.namespace(), ref.name(), headless ? ServiceType.HEADLESS : ServiceType.CLUSTER_SET_IP,
        ports, endpoints(slices), exportedAt);
  }

  private List<Endpoint> endpoints(List<V1EndpointSlice> slices) {
    // Keyed by the address list: one pod may appear in several slices (one per port set, or
    // during a slice rebalancing); its target ports are merged.
    Map<String, Endpoint> byKey = new LinkedHashMap<>();
    List<V1EndpointSlice> sorted = new ArrayList<>(slices);
    sorted.sort(Comparator.comparing(s -> String.valueOf(s.getMetadata().getName())));
    for (V1EndpointSlice slice : sorted) {
      if (slice.getEndpoints() == null) {
        continue;
      }
      Map<String, Integer> targetPorts = new TreeMap<>();
      if (slice.getPorts() != null) {
        for (DiscoveryV1EndpointPort p : slice.getPorts()) {
          if (p.getPort() != null) {
            targetPorts.put(orEmpty(p.getName()), p.getPort());
          }
        }
      }
      for (io.kubernetes.client.openapi.models.V1Endpoint e : slice.getEndpoints()) {
        List<InetAddress> addresses = new ArrayList<>();
        for (String a : e.getAddresses() == null ? List.<String>of() : e.getAddresses()) {
          try {
            addresses.add(Cidr.parseAddress(a));
          } catch (IllegalArgumentException notAnIp) {
            // FQDN slices and garbage are not exportable; skip the address.
          }
          if (addresses.size() == limits.maxAddresses()) {
            break;
          }
        }
        if (addresses.isEmpty()) {
          continue;
        }
        V1EndpointConditions c = e.getConditions();
        // discovery.k8s.io/v1: an unset ready or serving means "unknown, treat as ready".
        boolean ready = c == null || c.getReady() == null || c.getReady();
        boolean serving = c == null || c.getServing() == null ? ready : c.getServing();
        boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
        Endpoint endpoint = new Endpoint(addresses, ready, serving, terminating, orEmpty(e.getHostname()),
            orEmpty(e.getZone()), targetPorts);
        String key = addresses.stream().map(Cidr::format).toList().toString();
        Endpoint seen = byKey.get(key);
        if (seen != null) {
          Map<String, Integer> merged = new TreeMap<>(seen.targetPorts());
          merged.putAll(targetPorts);
          endpoint = new Endpoint(addresses, seen.ready() && ready, seen.serving() && serving,
              seen.terminating() || terminating, seen.hostname().isEmpty() ? endpoint.hostname() : seen.hostname(),
              seen.zone().isEmpty() ? endpoint.zone() : seen.zone(), merged);
        }
        byKey.put(key, endpoint);
      }
    }
    List<Map.Entry<String, Endpoint>> all = new ArrayList<>(byKey.entrySet());
    Comparator<Map.Entry<String, Endpoint>> byAddress = Map.Entry.comparingByKey();
    if (all.size() > limits.maxEndpoints()) {
      all.sort(Comparator.comparing((Map.Entry<String, Endpoint> en) -> !en.getValue().ready()).thenComparing(byAddress));
      all = new ArrayList<>(all.subList(0, limits.maxEndpoints()));
    }
    all.sort(byAddress);
    return all.stream().map(Map.Entry::getValue).toList();
  }

  private static Instant exportedAt(V1alpha1ServiceExport export) {
    var created = export.getMetadata() == null ? null : export.getMetadata().getCreationTimestamp();
    return created == null ? Instant.EPOCH : created.toInstant();
  }

  private static ServiceRef ref(V1ObjectMeta meta) {
    return new ServiceRef(orEmpty(meta.getNamespace()), orEmpty(meta.getName()));
  }

  static Map<String, String> labels(V1ObjectMeta meta) {
    return meta == null || meta.getLabels() == null ? Map.of() : meta.getLabels();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
