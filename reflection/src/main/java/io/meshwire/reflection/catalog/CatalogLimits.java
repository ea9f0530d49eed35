package io.meshwire.reflection.catalog;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code CatalogLimits} says what a catalog received from a peer may contain before anything of
 * it reaches the Kubernetes API: at most 1024 services, 100 ports and 1000 endpoints per service,
 * 1..100 addresses per endpoint, valid names, protocols and ports. A catalog that breaks any rule
 * is refused whole, so a faulty or hostile peer cannot half-overwrite what this cluster imported.
 */
public record CatalogLimits(int maxServices, int maxPorts, int maxEndpoints, int maxAddresses) {

  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern HOSTNAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "SCTP");

  /** The limits of the peer protocol (see peer.proto). */
  public static CatalogLimits defaults() {
    return new CatalogLimits(1024, 100, 1000, 100);
  }

  /**
   * Every rule {@code catalog} breaks, each naming its field, e.g. {@code services[2] (shop/web):
   * endpoints: 1200 exceed 1000}; empty when the catalog is acceptable.
   */
  public List<String> problems(Catalog catalog) {
    List<String> out = new ArrayList<>();
    if (catalog.catalogUid().isEmpty() || catalog.catalogUid().length() > 128) {
      out.add("catalog_uid: must be 1..128 characters");
    }
    if (catalog.services().size() > maxServices) {
      out.add("services: " + catalog.services().size() + " exceed " + maxServices);
      return out;
    }
    for (int i = 0; i < catalog.services().size(); i++) {
      problems(catalog.services().get(i), "services[" + i + "]", out);
    }
    return out;
  }

  /** Every rule {@code service} breaks, prefixed by {@code where}. */
  public List<String> problems(ExportedService service, String where) {
    List<String> out = new ArrayList<>();
    problems(service, where, out);
    return out;
  }

  private void problems(ExportedService s, String where, List<String> out) {
    String at = where + " (" + s.namespace() + "/" + s.name() + ")";
    if (!LABEL.matcher(s.namespace()).matches()) {
      out.add(at + ": namespace: not a DNS label");
    }
    if (!LABEL.matcher(s.name()).matches()) {
      out.add(at + ": name: not a DNS label");
    }
    if (s.ports().size() > maxPorts) {
      out.add(at + ": ports: " + s.ports().size() + " exceed " + maxPorts);
    }
    Set<String> portNames = new HashSet<>();
    for (int p = 0; p < s.ports().size() && p < maxPorts; p++) {
      ServicePort port = s.ports().get(p);
      String pat = at + ": ports[" + p + "]";
      if (port.port() < 1 || port.port() > 65535) {
        out.add(pat + ": port " + port.port() + " out of range 1..65535");
      }
      if (!PROTOCOLS.contains(port.protocol())) {
        out.add(pat + ": protocol \"" + port.protocol() + "\" is not TCP, UDP or SCTP");
      }
      if (!port.name().isEmpty() && !PORT_NAME.matcher(port.name()).matches()) {
        out.add(pat + ": name \"" + port.name() + "\" is not a DNS label");
      }
      if (port.appProtocol().length() > 253) {
        out.add(pat + ": app_protocol longer than 253 characters");
      }
      if (!portNames.add(port.name())) {
        out.add(pat + ": name \"" + port.name() + "\" appears twice");
      }
    }
    if (s.ports().size() > 1 && portNames.contains("")) {
      out.add(at + ": ports: an unnamed port is only allowed when it is the only one");
    }
    if (s.endpoints().size() > maxEndpoints) {
      out.add(at + ": endpoints: " + s.endpoints().size() + " exceed " + maxEndpoints);
      return;
    }
    for (int e = 0; e < s.endpoints().size(); e++) {
      Endpoint ep = s.endpoints().get(e);
      String eat = at + ": endpoints[" + e + "]";
      if (ep.addresses().isEmpty() || ep.addresses().size() > maxAddresses) {
        out.add(eat + ": addresses: " + ep.addresses().size() + " not in 1.." + maxAddresses);
      } else {
        boolean v4 = ep.addresses().get(0) instanceof Inet4Address;
        if (ep.addresses().stream().anyMatch(a -> (a instanceof Inet4Address) != v4)) {
          out.add(eat + ": addresses: mixes IPv4 and IPv6");
        }
        if (ep.addresses().stream().anyMatch(a -> a.isAnyLocalAddress() || a.isLoopbackAddress()
            || a.isMulticastAddress() || a.isLinkLocalAddress())) {
          out.add(eat + ": addresses: unspecified, loopback, link-local or multicast address");
        }
      }
      if (!ep.hostname().isEmpty() && !HOSTNAME.matcher(ep.hostname()).matches()) {
        out.add(eat + ": hostname \"" + ep.hostname() + "\" is not a DNS label");
      }
      if (ep.zone().length() > 63) {
        out.add(eat + ": zone longer than 63 characters");
      }
      ep.targetPorts().forEach((name, port) -> {
        if (port < 1 || port > 65535) {
          out.add(eat + ": target_ports[" + name + "]: " + port + " out of range 1..65535");
        }
        if (!portNames.contains(name)) {
          out.add(eat + ": target_ports[" + name + "]: no service port of that name");
        }
      });
    }
  }
}
