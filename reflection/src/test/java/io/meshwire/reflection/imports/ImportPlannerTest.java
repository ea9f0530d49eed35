package io.meshwire.reflection.imports;

import static io.meshwire.reflection.catalog.TestServices.T0;
import static io.meshwire.reflection.catalog.TestServices.ep;
import static io.meshwire.reflection.catalog.TestServices.web;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.Cidr;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceRef;
import io.meshwire.reflection.catalog.ServiceType;
import io.meshwire.reflection.catalog.TestServices;
import io.meshwire.reflection.imports.ImportedObject.DerivedServiceObject;
import io.meshwire.reflection.imports.ImportedObject.ServiceImportObject;
import io.meshwire.reflection.imports.ImportedObject.SliceEndpoint;
import io.meshwire.reflection.imports.ImportedObject.SliceObject;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ImportPlannerTest {

  private static final String DERIVED = ImportPlanner.derivedServiceName(new ServiceRef("shop", "web"));

  /** 10.0.0.0/16 at the source is seen here as 10.200.0.0/16; anything else is unreachable. */
  private static final Function<InetAddress, InetAddress> REMAP = a -> {
    byte[] b = a.getAddress();
    if (b.length != 4 || b[0] != 10 || b[1] != 0) {
      return null;
    }
    b[1] = (byte) 200;
    return Cidr.parseAddress((b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff));
  };

  private static SourceState source(String cluster, boolean ready, Function<InetAddress, InetAddress> translate,
      io.meshwire.reflection.catalog.ExportedService... services) {
    return new SourceState(cluster, Catalog.empty(cluster).next(List.of(services)), ready, translate);
  }

  private static <T extends ImportedObject> List<T> ofType(Map<ObjectKey, ImportedObject> desired, Class<T> type) {
    return desired.values().stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The objects {@code sources} call for, as read back (all managed, resourceVersion "1"). */
  private static Map<ObjectKey, Observed> applied(SourceState... sources) {
    Map<ObjectKey, Observed> actual = new TreeMap<>();
    ImportPlanner.desired(List.of(sources), Map.of()).forEach((k, o) -> actual.put(k, new Observed(o, "1", true)));
    return actual;
  }

  @Test
  void removalOfASourceDeletesItsSlicesAndWhatOnlyItExportedAndLeavesSharedAndForeignObjects() {
    SourceState east = source("east", true, REMAP, TestServices.service("shop", "web", ep("10.0.0.5", 8080)),
        TestServices.service("shop", "api", ep("10.0.0.6", 8080)));
    SourceState west = source("west", true, REMAP, TestServices.service("shop", "api", ep("10.0.0.7", 8080)));
    Map<ObjectKey, Observed> actual = applied(east, west);
    // Something a user made where a slice of east could be: not ours, never touched.
    ObjectKey foreignKey = new ObjectKey(ObjectKey.Kind.ENDPOINT_SLICE, "shop", "foreign");
    Observed eastSlice = actual.values().stream().filter(o -> o.content() instanceof SliceObject s
        && s.sourceCluster().equals("east")).findFirst().orElseThrow();
    actual.put(foreignKey, new Observed(eastSlice.content(), "9", false));

    List<ObjectKey> deleted = ImportPlanner.removal("east", actual).stream().map(KubeChange::key).toList();

    List<ObjectKey> expected = new ArrayList<>();
    expected.add(new ObjectKey(ObjectKey.Kind.SERVICE_IMPORT, "shop", "web")); // east was its only source
    actual.values().stream().filter(o -> o.managed() && o.content() instanceof SliceObject s
        && s.sourceCluster().equals("east")).map(Observed::key).sorted(java.util.Comparator.reverseOrder())
        .forEach(expected::add);
    expected.add(new ObjectKey(ObjectKey.Kind.SERVICE, "shop", DERIVED)); // web's derived Service
    assertEquals(expected, deleted);
    assertTrue(deleted.stream().noneMatch(k -> k.name().equals("api")), "api is shared with west: kept");
    assertEquals(List.of(), ImportPlanner.removal("north", actual), "an unknown source removes nothing");
  }

  @Test
  void derivedServiceNameIsStableAndShort() {
    assertEquals(DERIVED, ImportPlanner.derivedServiceName(new ServiceRef("shop", "web")));
    assertTrue(DERIVED.matches("derived-[0-9a-f]{10}"), DERIVED);
  }

  @Test
  void oneImportOneDerivedServiceAndASlicePerSourceWithTranslatedAddresses() {
    var desired = ImportPlanner.desired(List.of(
        source("b", true, REMAP, web("shop", T0, 80, ep("10.0.0.1", 8080), ep("192.168.9.9", 8080))),
        source("c", true, Function.identity(), web("shop", T0.plusSeconds(5), 80, ep("10.5.0.1", 8080)))), Map.of());
    ServicePort http = ServicePort.of("http", "TCP", 80);
    assertEquals(List.of(new ServiceImportObject("shop", "web", ServiceType.CLUSTER_SET_IP, List.of(http), List.of(),
        List.of("b", "c"), DERIVED)), ofType(desired, ServiceImportObject.class));
    assertEquals(List.of(new DerivedServiceObject("shop", DERIVED, "web", false, List.of(http))),
        ofType(desired, DerivedServiceObject.class));
    List<SliceObject> slices = ofType(desired, SliceObject.class);
    assertEquals(2, slices.size());
    SliceObject fromB = slices.stream().filter(s -> s.sourceCluster().equals("b")).findFirst().orElseThrow();
    assertEquals(List.of(new SliceEndpoint(List.of("10.200.0.1"), true, true, false, "", "")), fromB.endpoints(),
        "translated; the address outside the view is left out");
    assertEquals(List.of(ServicePort.of("http", "TCP", 8080)), fromB.ports(), "slice ports are target ports");
    assertEquals(DERIVED, fromB.derivedService());
    assertTrue(fromB.name().startsWith("web-b-"), fromB.name());
  }

  @Test
  void sourceDownKeepsItsEndpointsButNotReady() {
    var down = ImportPlanner.desired(List.of(source("b", false, REMAP, web("shop", T0, 80, ep("10.0.0.1", 8080)))), Map.of());
    SliceObject slice = ofType(down, SliceObject.class).get(0);
    assertEquals(List.of(new SliceEndpoint(List.of("10.200.0.1"), false, false, false, "", "")), slice.endpoints());
  }

  @Test
  void clusterIpOfTheDerivedServiceGoesIntoTheImport() {
    var first = ImportPlanner.desired(List.of(source("b", true, REMAP, web("shop", T0, 80))), Map.of());
    DerivedServiceObject svc = ofType(first, DerivedServiceObject.class).get(0);
    Map<ObjectKey, Observed> actual = Map.of(svc.key(), new Observed(svc, "7", true, "10.96.0.15"));
    var second = ImportPlanner.desired(List.of(source("b", true, REMAP, web("shop", T0, 80))), actual);
    assertEquals(List.of("10.96.0.15"), ofType(second, ServiceImportObject.class).get(0).ips());
  }

  @Test
  void conflictingPortsFollowTheOldestExport() {
    var desired = ImportPlanner.desired(List.of(
        source("b", true, REMAP, web("shop", T0.plusSeconds(5), 81)),
        source("c", true, REMAP, web("shop", T0, 80))), Map.of());
    assertEquals(List.of(ServicePort.of("http", "TCP", 80)), ofType(desired, ServiceImportObject.class).get(0).ports());
  }

  // ---- diff table ----------------------------------------------------------------------------

  private static final DerivedServiceObject SVC = new DerivedServiceObject("shop", DERIVED, "web", false,
      List.of(ServicePort.of("http", "TCP", 80)));
  private static final DerivedServiceObject SVC_81 = new DerivedServiceObject("shop", DERIVED, "web", false,
      List.of(ServicePort.of("http", "TCP", 81)));
  private static final SliceObject SLICE = new SliceObject("shop", "web-b-1", "web", "b", DERIVED, "IPv4",
      List.of(ServicePort.of("http", "TCP", 8080)), List.of(new SliceEndpoint(List.of("10.200.0.1"), true, true, false, "", "")));
  private static final SliceObject OLD_SLICE = new SliceObject("shop", "web-c-1", "web", "c", DERIVED, "IPv4",
      List.of(), List.of());
  private static final ServiceImportObject IMPORT = new ServiceImportObject("shop", "web", ServiceType.CLUSTER_SET_IP,
      List.of(ServicePort.of("http", "TCP", 80)), List.of(), List.of("b"), DERIVED);

  private static Map<ObjectKey, ImportedObject> want(ImportedObject... objects) {
    Map<ObjectKey, ImportedObject> out = new TreeMap<>();
    for (ImportedObject o : objects) {
      out.put(o.key(), o);
    }
    return out;
  }

  private static Map<ObjectKey, Observed> have(Observed... observed) {
    Map<ObjectKey, Observed> out = new TreeMap<>();
    for (Observed o : observed) {
      out.put(o.key(), o);
    }
    return out;
  }

  static Stream<Arguments> diffs() {
    return Stream.of(
        Arguments.of("nothing to nothing", want(), have(), List.of()),
        Arguments.of("create in kind order", want(IMPORT, SLICE, SVC), have(),
            List.of(new KubeChange.Create(SVC), new KubeChange.Create(SLICE), new KubeChange.Create(IMPORT))),
        Arguments.of("in sync", want(SVC, SLICE), have(new Observed(SVC, "1", true), new Observed(SLICE, "2", true)),
            List.of()),
        Arguments.of("update with the observed resourceVersion", want(SVC), have(new Observed(SVC_81, "5", true)),
            List.of(new KubeChange.Update(SVC, "5"))),
        Arguments.of("delete what nothing wants, imports first", want(),
            have(new Observed(SVC, "1", true), new Observed(OLD_SLICE, "2", true), new Observed(IMPORT, "3", true)),
            List.of(new KubeChange.Delete(IMPORT.key(), "3"), new KubeChange.Delete(OLD_SLICE.key(), "2"),
                new KubeChange.Delete(SVC.key(), "1"))),
        Arguments.of("unmanaged object in the way is refused, never written", want(IMPORT),
            have(new Observed(IMPORT, "9", false)),
            List.of(new KubeChange.Refused(IMPORT.key(), "exists without the managed-by label (not created by meshwire)"))),
        Arguments.of("unmanaged object nobody wants is not deleted", want(), have(new Observed(IMPORT, "9", false)),
            List.of()),
        Arguments.of("mixed", want(SVC, SLICE), have(new Observed(SVC_81, "4", true), new Observed(OLD_SLICE, "6", true)),
            List.of(new KubeChange.Update(SVC, "4"), new KubeChange.Create(SLICE), new KubeChange.Delete(OLD_SLICE.key(), "6"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("diffs")
  void diff(String what, Map<ObjectKey, ImportedObject> desired, Map<ObjectKey, Observed> actual, List<KubeChange> expected) {
    assertEquals(expected, ImportPlanner.diff(desired, actual), what);
  }

  @Test
  void removingASourceDeletesOnlyItsObjects() {
    SourceState b = source("b", true, REMAP, web("shop", T0, 80, ep("10.0.0.1", 8080)));
    SourceState c = source("c", true, REMAP, web("shop", T0, 80, ep("10.0.0.2", 8080)));
    var both = ImportPlanner.desired(List.of(b, c), Map.of());
    Map<ObjectKey, Observed> actual = new TreeMap<>();
    both.values().forEach(o -> actual.put(o.key(), new Observed(o, "1", true)));
    List<KubeChange> changes = ImportPlanner.diff(ImportPlanner.desired(List.of(b), actual), actual);
    List<String> summary = new ArrayList<>();
    for (KubeChange ch : changes) {
      summary.add(ch.getClass().getSimpleName() + " " + ch.key().kind());
    }
    assertEquals(List.of("Update SERVICE_IMPORT", "Delete ENDPOINT_SLICE"), summary, "clusters list shrinks, c's slice goes");
  }
}
