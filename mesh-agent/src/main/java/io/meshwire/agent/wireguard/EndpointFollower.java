package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.HostPort;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EndpointFollower} keeps the announced gateway endpoints true when a local address moves
 * (DHCP renewal, failover, a re-addressed node). Peers otherwise learn a moved endpoint only by
 * WireGuard roaming, after 80-95 s. An endpoint whose address is on a local interface at start is
 * followed: when that address leaves the interface and the interface has another global address
 * of the same family, the endpoint becomes that address (same port) and {@link #check} reports the
 * change, so the agent announces it again. An endpoint that is not local (a NAT's public address, a
 * DNS name) is announced as configured.
 *
 * <p>Thread-safe: {@link #check} is called from one timer thread, {@link #endpoints} from any.
 */
public final class EndpointFollower implements EndpointSource {

  private static final Logger log = LoggerFactory.getLogger(EndpointFollower.class);

  /** Where local addresses come from: the JVM's network interfaces in the agent, a map in tests. */
  @FunctionalInterface
  public interface Addresses {
    /** Every interface with its addresses, by name. */
    Map<String, List<InetAddress>> byInterface();

    /** This network namespace's interfaces, as the JVM sees them. */
    static Addresses host() {
      return () -> {
        Map<String, List<InetAddress>> out = new TreeMap<>();
        try {
          for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            out.put(nic.getName(), Collections.list(nic.getInetAddresses()));
          }
        } catch (SocketException e) {
          throw new IllegalStateException("listing network interfaces: " + e.getMessage(), e);
        }
        return out;
      };
    }
  }

  private final Addresses addresses;
  /** The configured endpoints, each with the interface it was found on (empty: not followed). */
  private final List<Optional<String>> interfaces = new ArrayList<>();
  private volatile List<HostPort> current;

  public EndpointFollower(List<HostPort> configured, Addresses addresses) {
    this.addresses = Objects.requireNonNull(addresses, "addresses");
    this.current = List.copyOf(configured);
    Map<String, List<InetAddress>> now = addresses.byInterface();
    for (HostPort endpoint : configured) {
      Optional<String> nic = literal(endpoint.host()).flatMap(a -> interfaceOf(a, now));
      interfaces.add(nic);
      nic.ifPresent(n -> log.debug("endpoint followed endpoint={} if={}", endpoint, n));
    }
  }

  /** The endpoints to announce now. */
  @Override
  public List<HostPort> endpoints() {
    return current;
  }

  /** Looks at the interfaces again; true when an endpoint moved (then {@link #endpoints} changed). */
  @Override
  public synchronized boolean check() {
    Map<String, List<InetAddress>> now = addresses.byInterface();
    List<HostPort> next = new ArrayList<>(current);
    boolean moved = false;
    for (int i = 0; i < next.size(); i++) {
      Optional<String> nic = interfaces.get(i);
      HostPort endpoint = next.get(i);
      Optional<InetAddress> address = literal(endpoint.host());
      if (nic.isEmpty() || address.isEmpty()) {
        continue;
      }
      List<InetAddress> onNic = now.getOrDefault(nic.get(), List.of());
      if (onNic.contains(address.get())) {
        continue;
      }
      boolean v4 = address.get() instanceof Inet4Address;
      Optional<InetAddress> replacement = onNic.stream()
          .filter(a -> (a instanceof Inet4Address) == v4 && usable(a))
          .findFirst();
      if (replacement.isPresent()) {
        HostPort to = new HostPort(replacement.get().getHostAddress(), endpoint.port());
        log.info("gateway endpoint moved if={} from={} to={}; announcing it", nic.get(), endpoint, to);
        next.set(i, to);
        moved = true;
      }
    }
    if (moved) {
      current = List.copyOf(next);
    }
    return moved;
  }

  private static boolean usable(InetAddress a) {
    return !a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isAnyLocalAddress() && !a.isMulticastAddress();
  }

  private static Optional<String> interfaceOf(InetAddress address, Map<String, List<InetAddress>> now) {
    return now.entrySet().stream().filter(e -> e.getValue().contains(address)).map(Map.Entry::getKey).findFirst();
  }

  /** The host as an address when it is an IP literal (never a DNS lookup). */
  private static Optional<InetAddress> literal(String host) {
    if (!host.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByName(host));
    } catch (java.net.UnknownHostException e) {
      return Optional.empty();
    }
  }
}
