package io.meshwire.reflection.export;

import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServiceRef;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code ExportPlan} is what {@link CatalogBuilder} makes of the cluster's ServiceExports: the
 * services to publish, and the conditions each ServiceExport should carry. Immutable.
 */
record ExportPlan(List<ExportedService> services, Map<ServiceRef, List<ExportCondition>> conditions) {

  public ExportPlan {
    services = List.copyOf(services);
    TreeMap<ServiceRef, List<ExportCondition>> copy = new TreeMap<>();
    conditions.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    conditions = java.util.Collections.unmodifiableMap(copy);
  }
}
