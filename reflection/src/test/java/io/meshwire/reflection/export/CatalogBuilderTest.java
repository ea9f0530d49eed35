package io.meshwire.reflection.export;

import static io.meshwire.reflection.kube.KubeObjects.endpoint;
import static io.meshwire.reflection.kube.KubeObjects.export;
import static io.meshwire.reflection.kube.KubeObjects.service;
import static io.meshwire.reflection.kube.KubeObjects.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;
import io.meshwire.netaddr.Cidr;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceRef;
import io.meshwire.reflection.catalog.ServiceType;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.V1alpha1ServiceExport;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CatalogBuilderTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final ServiceRef WEB = new ServiceRef("shop", "web");
  private final CatalogBuilder builder = new CatalogBuilder("a", CatalogLimits.defaults());

  private static String condition(ExportPlan plan, ServiceRef ref, String type) {
    return plan.conditions().get(ref).stream().filter(c -> c.type().equals(type))
        .map(c -> c.status() + "/" + c.reason()).findFirst().orElse("-");
  }

  static Stream<Arguments> validity() {
    V1Service external = service("shop", "web", 80);
    external.getSpec().type("ExternalName").externalName("example.org");
    return Stream.of(
        Arguments.of("exported", List.of(service("shop", "web", 80)), "True/Exported", 1),
        Arguments.of("no service", List.of(service("shop", "other", 80)), "False/ServiceNotFound", 0),
        Arguments.of("other namespace", List.of(service("blog", "web", 80)), "False/ServiceNotFound", 0),
        Arguments.of("external name", List.of(external), "False/ServiceTypeInvalid", 0));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validity")
  void validConditionFollowsTheService(String what, List<V1Service> services, String valid, int exported) {
    ExportPlan plan = builder.build(List.of(export("shop", "web", T0)), services, List.of(), Map.of());
    assertEquals(valid, condition(plan, WEB, Mcs.CONDITION_VALID), what);
    assertEquals(exported, plan.services().size(), what);
  }

  @Test
  void buildsTypePortsAndEndpointsFromSlices() {
    V1Service headless = service("shop", "web", 80);
    headless.getSpec().clusterIP("None");
    List<V1EndpointSlice> slices = List.of(
        slice("shop", "web-1", "web", 8080, endpoint("10.0.0.2", true), endpoint("10.0.0.1", false)),
        slice("shop", "web-2", "web", 8080, endpoint("not-an-ip", true), endpoint("10.0.0.3", null)),
        slice("shop", "other-1", "other", 9090, endpoint("10.0.0.9", true)));
    ExportPlan plan = builder.build(List.of(export("shop", "web", T0)), List.of(headless), slices, Map.of());
    ExportedService web = plan.services().get(0);
    assertEquals(ServiceType.HEADLESS, web.type());
    assertEquals(List.of(ServicePort.of("http", "TCP", 80)), web.ports());
    assertEquals(T0, web.exportedAt());
    assertEquals(List.of(
        new Endpoint(List.of(Cidr.parseAddress("10.0.0.1")), false, false, false, "", "", Map.of("http", 8080)),
        Endpoint.ready(Cidr.parseAddress("10.0.0.2"), Map.of("http", 8080)),
        Endpoint.ready(Cidr.parseAddress("10.0.0.3"), Map.of("http", 8080))), web.endpoints(),
        "sorted, not-an-ip skipped, unset ready counts as ready, other service's slice ignored");
  }

  @Test
  void neverReexportsSlicesMeshwireImported() {
    V1EndpointSlice imported = slice("shop", "web-b-1", "web", 8080, endpoint("10.9.0.1", true));
    imported.getMetadata().getLabels().put(Mcs.LABEL_SLICE_MANAGED_BY, Mcs.MANAGER);
    ExportPlan plan = builder.build(List.of(export("shop", "web", T0)), List.of(service("shop", "web", 80)),
        List.of(imported), Map.of());
    assertEquals(List.of(), plan.services().get(0).endpoints());
  }

  @Test
  void endpointInTwoSlicesIsMergedWithBothTargetPorts() {
    V1EndpointSlice grpc = slice("shop", "web-2", "web", 9000, endpoint("10.0.0.1", true));
    grpc.getPorts().get(0).name("grpc");
    ExportPlan plan = builder.build(List.of(export("shop", "web", T0)), List.of(service("shop", "web", 80)),
        List.of(slice("shop", "web-1", "web", 8080, endpoint("10.0.0.1", true)), grpc), Map.of());
    assertEquals(List.of(Endpoint.ready(Cidr.parseAddress("10.0.0.1"), Map.of("http", 8080, "grpc", 9000))),
        plan.services().get(0).endpoints());
  }

  static Stream<Arguments> conflicts() {
    return Stream.of(
        Arguments.of("alone", null, "False/NoConflicts"),
        Arguments.of("remote same ports", remote(T0.minusSeconds(60), 80, ServiceType.CLUSTER_SET_IP), "False/NoConflicts"),
        Arguments.of("older remote, other port: we lose", remote(T0.minusSeconds(60), 81, ServiceType.CLUSTER_SET_IP),
            "True/PortConflict"),
        Arguments.of("younger remote, other port: we win", remote(T0.plusSeconds(60), 81, ServiceType.CLUSTER_SET_IP),
            "False/NoConflicts"),
        Arguments.of("older remote, headless: type conflict", remote(T0.minusSeconds(60), 80, ServiceType.HEADLESS),
            "True/TypeConflict"));
  }

  private static Catalog remote(Instant exportedAt, int port, ServiceType type) {
    return Catalog.empty("b").next(List.of(new ExportedService("shop", "web", type,
        List.of(ServicePort.of("http", "TCP", port)), List.of(), exportedAt)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("conflicts")
  void conflictConditionComparesWithOtherClustersOldestWins(String what, Catalog remote, String expected) {
    Map<String, Catalog> remotes = remote == null ? Map.of() : Map.of("b", remote);
    ExportPlan plan = builder.build(List.of(export("shop", "web", T0)), List.of(service("shop", "web", 80)), List.of(),
        remotes);
    assertEquals(expected, condition(plan, WEB, Mcs.CONDITION_CONFLICT), what);
  }

  @Test
  void beyondTheCatalogLimitTheYoungestExportsAreLeftOut() {
    CatalogBuilder small = new CatalogBuilder("a", new CatalogLimits(1, 100, 1000, 100));
    List<V1alpha1ServiceExport> exports = List.of(export("shop", "web", T0.plusSeconds(1)), export("shop", "db", T0));
    ExportPlan plan = small.build(exports, List.of(service("shop", "web", 80), service("shop", "db", 5432)), List.of(),
        Map.of());
    assertEquals(List.of(new ServiceRef("shop", "db")), plan.services().stream().map(ExportedService::ref).toList());
    assertEquals("False/CatalogFull", condition(plan, WEB, Mcs.CONDITION_VALID));
  }

  @Test
  void endpointLimitKeepsReadyOnesFirst() {
    CatalogBuilder small = new CatalogBuilder("a", new CatalogLimits(10, 100, 1, 100));
    ExportPlan plan = small.build(List.of(export("shop", "web", T0)), List.of(service("shop", "web", 80)),
        List.of(slice("shop", "web-1", "web", 8080, endpoint("10.0.0.1", false), endpoint("10.0.0.2", true))), Map.of());
    List<Endpoint> endpoints = plan.services().get(0).endpoints();
    assertEquals(1, endpoints.size());
    assertTrue(endpoints.get(0).ready());
    assertFalse(endpoints.get(0).terminating());
  }
}
