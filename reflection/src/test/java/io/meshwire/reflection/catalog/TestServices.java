package io.meshwire.reflection.catalog;

import io.meshwire.netaddr.Cidr;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Small builders for catalog test data. */
public final class TestServices {

  private TestServices() {}

  public static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  public static Endpoint ep(String address, int targetPort) {
    return Endpoint.ready(Cidr.parseAddress(address), Map.of("http", targetPort));
  }

  public static ExportedService web(String ns, Instant exportedAt, int port, Endpoint... endpoints) {
    return new ExportedService(ns, "web", ServiceType.CLUSTER_SET_IP, List.of(ServicePort.of("http", "TCP", port)),
        List.of(endpoints), exportedAt);
  }

  public static ExportedService service(String ns, String name, Endpoint... endpoints) {
    return new ExportedService(ns, name, ServiceType.CLUSTER_SET_IP, List.of(ServicePort.of("http", "TCP", 80)),
        List.of(endpoints), T0);
  }
}
