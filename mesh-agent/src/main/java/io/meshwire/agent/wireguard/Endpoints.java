package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** {@code Endpoints} formats and parses WireGuard endpoints ({@code host:port}). Stateless. */
final class Endpoints {
  private Endpoints() {}

  /** {@code 198.18.0.2:51820}, {@code [fd00::1]:51820}, or {@code host:port} when unresolved. */
  static String format(InetSocketAddress endpoint) {
    if (endpoint.isUnresolved()) {
      return endpoint.getHostString() + ":" + endpoint.getPort();
    }
    String host = Cidr.format(endpoint.getAddress());
    return (endpoint.getAddress() instanceof Inet6Address ? "[" + host + "]" : host)
        + ":"
        + endpoint.getPort();
  }

  /**
   * Parses the numeric endpoint {@code wg} prints, without any name lookup.
   *
   * @throws IllegalArgumentException naming the input
   */
  static InetSocketAddress parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("endpoint \"" + text + "\": expected address:port");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("endpoint \"" + text + "\": bad port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("endpoint \"" + text + "\": port out of range");
    }
    try {
      return new InetSocketAddress(Cidr.parseAddress(host), port);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("endpoint \"" + text + "\": bad address", e);
    }
  }
}
