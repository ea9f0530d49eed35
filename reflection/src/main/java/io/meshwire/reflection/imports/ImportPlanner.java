package io.meshwire.reflection.imports;

import io.meshwire.netaddr.Cidr;
import io.meshwire.reflection.catalog.Conflicts;
import io.meshwire.reflection.catalog.Endpoint;
import io.meshwire.reflection.catalog.ExportedService;
import io.meshwire.reflection.catalog.ServicePort;
import io.meshwire.reflection.catalog.ServiceRef;
import io.meshwire.reflection.catalog.ServiceType;
import io.meshwire.reflection.imports.ImportedObject.DerivedServiceObject;
import io.meshwire.reflection.imports.ImportedObject.ServiceImportObject;
import io.meshwire.reflection.imports.ImportedObject.SliceEndpoint;
import io.meshwire.reflection.imports.ImportedObject.SliceObject;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code ImportPlanner} computes which imported objects should exist ({@link #desired}) and what
 * to change to get there ({@link #diff}). Pure; tested with tables.
 *
 * <p>Per service {@code ns/name} exported by at least one source:
 * <ul>
 *   <li>a ServiceImport {@code ns/name} (type and ports merged by {@link Conflicts#merge}: the oldest
 *       export wins), with the derived Service's cluster IP once assigned and the sorted sources;
 *   <li>a derived Service {@code ns/derived-<h>}, {@code h} the first 10 hex digits of
 *       SHA-256({@code "ns/name"}): selectorless, ClusterIP (None when headless), the merged ports;
 *       a fixed-length name that cannot collide with the user's {@code <svc>} and fits any service
 *       name (the MCS reference implementation names it the same way);
 *   <li>per source, one EndpointSlice per address family and target-port set, named
 *       {@code <name>-<source>-<h>} (parts cut to 20 characters, {@code h} 8 hex digits of
 *       SHA-256 over namespace, name, source, family and ports), labelled with
 *       {@code kubernetes.io/service-name} (the derived Service), the MCS service-name and
 *       source-cluster labels and {@code endpointslice.kubernetes.io/managed-by=meshwire.io}.
 * </ul>
 * Endpoint addresses go through the source's translation (untranslatable ones are left out); a
 * source that is not ready keeps its endpoints but with {@code ready} and {@code serving} false.
 */
final class ImportPlanner {

  private ImportPlanner() {}

  /** The name of the derived Service of {@code ns/name}. */
  public static String derivedServiceName(ServiceRef ref) {
    return "derived-" + hash(ref.namespace() + "/" + ref.name(), 10);
  }

  /** Every object that should exist for {@code sources}; {@code actual} supplies assigned cluster IPs. */
  public static Map<ObjectKey, ImportedObject> desired(Collection<SourceState> sources, Map<ObjectKey, Observed> actual) {
    Map<ServiceRef, Map<String, ExportedService>> byService = new TreeMap<>();
    Map<String, SourceState> byCluster = new TreeMap<>();
    for (SourceState source : sources) {
      byCluster.put(source.cluster(), source);
      for (ExportedService s : source.catalog().services()) {
        byService.computeIfAbsent(s.ref(), k -> new TreeMap<>()).put(source.cluster(), s);
      }
    }
    Map<ObjectKey, ImportedObject> out = new TreeMap<>();
    byService.forEach((ref, exports) -> {
      Conflicts.Merged merged = Conflicts.merge(exports);
      String derived = derivedServiceName(ref);
      boolean headless = merged.type() == ServiceType.HEADLESS;
      DerivedServiceObject service = new DerivedServiceObject(ref.namespace(), derived, ref.name(), headless,
          merged.ports());
      out.put(service.key(), service);
      List<String> ips = Optional.ofNullable(actual.get(service.key()))
          .map(Observed::clusterIp)
          .filter(ip -> !headless && !ip.isEmpty() && !"None".equals(ip))
          .map(List::of).orElse(List.of());
      ServiceImportObject serviceImport = new ServiceImportObject(ref.namespace(), ref.name(), merged.type(),
          merged.ports(), ips, List.copyOf(exports.keySet()), derived);
      out.put(serviceImport.key(), serviceImport);
      exports.forEach((cluster, export) -> {
        for (SliceObject slice : slices(ref, derived, byCluster.get(cluster), export, merged.ports())) {
          out.put(slice.key(), slice);
        }
      });
    });
    return out;
  }

  private record Group(String family, Map<String, Integer> targetPorts) {}

  private static List<SliceObject> slices(ServiceRef ref, String derived, SourceState source, ExportedService export,
      List<ServicePort> ports) {
    Map<String, ServicePort> portsByName = new TreeMap<>();
    ports.forEach(p -> portsByName.put(p.name(), p));
    Map<Group, List<SliceEndpoint>> groups = new java.util.LinkedHashMap<>();
    for (Endpoint e : export.endpoints()) {
      Set<InetAddress> translated = new LinkedHashSet<>();
      for (InetAddress a : e.addresses()) {
        InetAddress t = source.translate().apply(a);
        if (t != null) {
          translated.add(t);
        }
      }
      if (translated.isEmpty()) {
        continue;
      }
      boolean v4 = translated.iterator().next() instanceof Inet4Address;
      List<String> addresses = translated.stream().filter(a -> (a instanceof Inet4Address) == v4).map(Cidr::format)
          .toList();
      Map<String, Integer> targetPorts = new TreeMap<>(e.targetPorts());
      targetPorts.keySet().retainAll(portsByName.keySet());
      groups.computeIfAbsent(new Group(v4 ? "IPv4" : "IPv6", targetPorts), k -> new ArrayList<>())
          .add(new SliceEndpoint(addresses, e.ready() && source.ready(), e.serving() && source.ready(), e.terminating(),
              e.hostname(), e.zone()));
    }
    List<SliceObject> out = new ArrayList<>();
    groups.forEach((group, endpoints) -> {
      List<ServicePort> slicePorts = new ArrayList<>();
      group.targetPorts().forEach((name, port) -> {
        ServicePort sp = portsByName.get(name);
        slicePorts.add(new ServicePort(name, sp.protocol(), port, sp.appProtocol()));
      });
      List<SliceEndpoint> sorted = new ArrayList<>(endpoints);
      sorted.sort(Comparator.comparing(se -> se.addresses().toString()));
      String name = cut(ref.name()) + "-" + cut(source.cluster()) + "-"
          + hash(ref + "/" + source.cluster() + "/" + group.family() + "/" + group.targetPorts(), 8);
      out.add(new SliceObject(ref.namespace(), name, ref.name(), source.cluster(), derived, group.family(), slicePorts,
          sorted));
    });
    return out;
  }

  /**
   * The changes that turn {@code actual} into {@code desired}: objects in the way that meshwire
   * does not manage first (refused, never touched), then creates and updates in kind order
   * (Services, EndpointSlices, ServiceImports), then deletes of managed objects nothing desires, in
   * reverse kind order.
   */
  public static List<KubeChange> diff(Map<ObjectKey, ImportedObject> desired, Map<ObjectKey, Observed> actual) {
    List<KubeChange> refused = new ArrayList<>();
    List<KubeChange> writes = new ArrayList<>();
    List<KubeChange> deletes = new ArrayList<>();
    for (ImportedObject want : new TreeMap<>(desired).values()) {
      Observed have = actual.get(want.key());
      if (have == null) {
        writes.add(new KubeChange.Create(want));
      } else if (!have.managed()) {
        refused.add(new KubeChange.Refused(want.key(), "exists without the managed-by label " + "(not created by meshwire)"));
      } else if (!have.content().equals(want)) {
        writes.add(new KubeChange.Update(want, have.resourceVersion()));
      }
    }
    List<Observed> stale = new ArrayList<>();
    for (Observed have : actual.values()) {
      if (have.managed() && !desired.containsKey(have.key())) {
        stale.add(have);
      }
    }
    stale.sort(Comparator.comparing(Observed::key).reversed());
    stale.forEach(o -> deletes.add(new KubeChange.Delete(o.key(), o.resourceVersion())));
    List<KubeChange> out = new ArrayList<>(refused);
    out.addAll(writes);
    out.addAll(deletes);
    return out;
  }

  /**
   * What removes everything imported from {@code source} alone, without knowing the other sources'
   * catalogs (they may not have been delivered yet): deletes of its EndpointSlices, and of the
   * ServiceImports (with their derived Services) whose only source it was. Objects shared with
   * other sources keep their content until the next {@link #diff}, which drops {@code source} from
   * them; only managed objects are touched. Deletes in reverse kind order, like {@link #diff}.
   */
  public static List<KubeChange.Delete> removal(String source, Map<ObjectKey, Observed> actual) {
    Set<ObjectKey> gone = new TreeSet<>(Comparator.<ObjectKey>naturalOrder().reversed());
    for (Observed have : actual.values()) {
      if (!have.managed()) {
        continue;
      }
      switch (have.content()) {
        case SliceObject slice when slice.sourceCluster().equals(source) -> gone.add(slice.key());
        case ServiceImportObject imp when imp.clusters().equals(List.of(source)) -> {
          gone.add(imp.key());
          ObjectKey derived = new ObjectKey(ObjectKey.Kind.SERVICE, imp.namespace(), imp.derivedService());
          if (actual.containsKey(derived) && actual.get(derived).managed()) {
            gone.add(derived);
          }
        }
        default -> { }
      }
    }
    return gone.stream().map(k -> new KubeChange.Delete(k, actual.get(k).resourceVersion())).toList();
  }

  private static String cut(String s) {
    String c = s.length() <= 20 ? s : s.substring(0, 20);
    while (c.endsWith("-")) {
      c = c.substring(0, c.length() - 1);
    }
    return c;
  }

  static String hash(String text, int hexDigits) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, hexDigits);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
