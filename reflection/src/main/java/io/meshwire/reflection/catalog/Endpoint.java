package io.meshwire.reflection.catalog;

import io.meshwire.netaddr.Cidr;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * {@code Endpoint} is one backend of an exported service, as the source cluster's EndpointSlice
 * describes it: pod addresses in the source's own pod CIDR (importers translate them), the three
 * EndpointSlice conditions, and the target port numbers by service port name. Immutable.
 *
 * @param hostname empty when unset (headless services publish it in DNS)
 * @param zone empty when unknown
 * @param targetPorts the port the pod listens on, by service port name ({@code ""} for an unnamed
 *     port); sorted
 */
public record Endpoint(List<InetAddress> addresses, boolean ready, boolean serving, boolean terminating,
    String hostname, String zone, Map<String, Integer> targetPorts) {

  public Endpoint {
    addresses = List.copyOf(addresses);
    Objects.requireNonNull(hostname, "hostname");
    Objects.requireNonNull(zone, "zone");
    targetPorts = java.util.Collections.unmodifiableMap(new TreeMap<>(targetPorts));
  }

  /** A ready, serving endpoint at {@code address} with no hostname or zone. */
  public static Endpoint ready(InetAddress address, Map<String, Integer> targetPorts) {
    return new Endpoint(List.of(address), true, true, false, "", "", targetPorts);
  }

  /** This endpoint with other addresses (the importer's translation). */
  public Endpoint withAddresses(List<InetAddress> translated) {
    return new Endpoint(translated, ready, serving, terminating, hostname, zone, targetPorts);
  }

  /** This endpoint with {@code ready} and {@code serving} forced false (its source is unreachable). */
  public Endpoint unreachable() {
    return new Endpoint(addresses, false, false, terminating, hostname, zone, targetPorts);
  }

  @Override
  public String toString() {
    return addresses.stream().map(Cidr::format).toList() + (ready ? "" : " not-ready")
        + (terminating ? " terminating" : "") + (hostname.isEmpty() ? "" : " host=" + hostname);
  }
}
