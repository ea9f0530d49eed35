package io.meshwire.reflection.catalog;

import static io.meshwire.reflection.catalog.TestServices.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConflictsTest {

  private static ExportedService svc(ServiceType type, long ageSeconds, ServicePort... ports) {
    return new ExportedService("ns", "web", type, List.of(ports), List.of(), T0.plusSeconds(ageSeconds));
  }

  private static final ServicePort HTTP80 = ServicePort.of("http", "TCP", 80);
  private static final ServicePort HTTP8080 = ServicePort.of("http", "TCP", 8080);
  private static final ServicePort GRPC = ServicePort.of("grpc", "TCP", 9000);
  private static final ServicePort WEB80 = ServicePort.of("web", "TCP", 80);
  private static final ServiceType IP = ServiceType.CLUSTER_SET_IP;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("same ports", Map.of("a", svc(IP, 0, HTTP80), "b", svc(IP, 5, HTTP80)),
            List.of(HTTP80), Map.of()),
        Arguments.of("disjoint ports are merged", Map.of("a", svc(IP, 0, HTTP80), "b", svc(IP, 5, GRPC)),
            List.of(HTTP80, GRPC), Map.of()),
        Arguments.of("same name other number: oldest wins", Map.of("a", svc(IP, 10, HTTP8080), "b", svc(IP, 5, HTTP80)),
            List.of(HTTP80), Map.of("a", Conflicts.PORT_CONFLICT)),
        Arguments.of("same number other name", Map.of("a", svc(IP, 0, HTTP80), "b", svc(IP, 5, WEB80)),
            List.of(HTTP80), Map.of("b", Conflicts.PORT_CONFLICT)),
        Arguments.of("type", Map.of("a", svc(IP, 0, HTTP80), "b", svc(ServiceType.HEADLESS, 5, HTTP80)),
            List.of(HTTP80), Map.of("b", Conflicts.TYPE_CONFLICT)),
        Arguments.of("tie broken by cluster name", Map.of("b", svc(IP, 0, HTTP8080), "a", svc(IP, 0, HTTP80)),
            List.of(HTTP80), Map.of("b", Conflicts.PORT_CONFLICT)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void oldestExportWins(String what, Map<String, ExportedService> byCluster, List<ServicePort> ports,
      Map<String, String> conflictReasons) {
    Conflicts.Merged merged = Conflicts.merge(byCluster);
    assertEquals(ports, merged.ports(), what);
    Map<String, String> reasons = new java.util.TreeMap<>();
    merged.conflicts().forEach((k, v) -> reasons.put(k, v.reason()));
    assertEquals(new java.util.TreeMap<>(conflictReasons), reasons, what);
  }
}
