package io.meshwire.reflection.catalog;

import static io.meshwire.reflection.catalog.TestServices.T0;
import static io.meshwire.reflection.catalog.TestServices.ep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.Cidr;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CatalogLimitsTest {

  private static ExportedService svc(String name, List<ServicePort> ports, List<Endpoint> endpoints) {
    return new ExportedService("ns", name, ServiceType.CLUSTER_SET_IP, ports, endpoints, T0);
  }

  private static final List<ServicePort> HTTP = List.of(ServicePort.of("http", "TCP", 80));

  static Stream<Arguments> catalogs() {
    List<ExportedService> tooMany = new ArrayList<>();
    for (int i = 0; i < 1025; i++) {
      tooMany.add(svc("s" + i, HTTP, List.of()));
    }
    List<Endpoint> thousandAndOne = IntStream.range(0, 1001).mapToObj(i -> ep("10.1." + (i / 250) + "." + (i % 250 + 1), 80)).toList();
    return Stream.of(
        Arguments.of("acceptable", List.of(svc("web", HTTP, List.of(ep("10.0.0.1", 8080)))), ""),
        Arguments.of("1025 services", tooMany, "services: 1025 exceed 1024"),
        Arguments.of("1001 endpoints", List.of(svc("web", HTTP, thousandAndOne)), "endpoints: 1001 exceed 1000"),
        Arguments.of("port 0", List.of(svc("web", List.of(ServicePort.of("http", "TCP", 0)), List.of())), "port 0 out of range"),
        Arguments.of("port 70000", List.of(svc("web", List.of(ServicePort.of("http", "TCP", 70000)), List.of())), "out of range 1..65535"),
        Arguments.of("protocol", List.of(svc("web", List.of(ServicePort.of("http", "ICMP", 80)), List.of())), "is not TCP, UDP or SCTP"),
        Arguments.of("name", List.of(svc("Web_1", HTTP, List.of())), "name: not a DNS label"),
        Arguments.of("loopback endpoint", List.of(svc("web", HTTP, List.of(ep("127.0.0.1", 80)))), "loopback"),
        Arguments.of("no address", List.of(svc("web", HTTP, List.of(new Endpoint(List.of(), true, true, false, "", "", Map.of())))), "addresses: 0 not in 1..100"),
        Arguments.of("mixed families", List.of(svc("web", HTTP, List.of(new Endpoint(List.of(Cidr.parseAddress("10.0.0.1"), Cidr.parseAddress("fd00::1")), true, true, false, "", "", Map.of())))), "mixes IPv4 and IPv6"),
        Arguments.of("target port", List.of(svc("web", HTTP, List.of(Endpoint.ready(Cidr.parseAddress("10.0.0.1"), Map.of("http", 0))))), "target_ports[http]: 0 out of range"),
        Arguments.of("unknown target port name", List.of(svc("web", HTTP, List.of(Endpoint.ready(Cidr.parseAddress("10.0.0.1"), Map.of("grpc", 9000))))), "no service port of that name"),
        Arguments.of("101 addresses", List.of(svc("web", HTTP, List.of(new Endpoint(Collections.nCopies(101, Cidr.parseAddress("10.0.0.1")), true, true, false, "", "", Map.of())))), "addresses: 101 not in 1..100"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("catalogs")
  void refusesWhatBreaksALimitNamingTheField(String what, List<ExportedService> services, String expected) {
    List<String> problems = CatalogLimits.defaults().problems(new Catalog("uid", 1, services));
    if (expected.isEmpty()) {
      assertEquals(List.of(), problems);
    } else {
      assertTrue(problems.stream().anyMatch(p -> p.contains(expected)), what + ": " + problems);
    }
  }
}
