package io.meshwire.reflection.catalog;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * {@code ExportedService} is one entry of a cluster's catalog: a Service marked by a
 * {@code ServiceExport}, with its ports and current endpoints. Immutable.
 *
 * @param exportedAt when the ServiceExport was created: in a conflict between clusters the oldest
 *     export wins, as the Multi-Cluster Services API prescribes
 */
public record ExportedService(String namespace, String name, ServiceType type, List<ServicePort> ports,
    List<Endpoint> endpoints, Instant exportedAt) {

  public ExportedService {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(exportedAt, "exportedAt");
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
  }

  public ServiceRef ref() {
    return new ServiceRef(namespace, name);
  }

  /** This service with other endpoints. */
  public ExportedService withEndpoints(List<Endpoint> replaced) {
    return new ExportedService(namespace, name, type, ports, replaced, exportedAt);
  }

  @Override
  public String toString() {
    return ref() + " " + type.mcsName() + " ports=" + ports + " endpoints=" + endpoints.size();
  }
}
