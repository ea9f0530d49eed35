package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code IpRouteDump} parses {@code ip -o -4|-6 route show dev IF}: one route per line, the
 * destination first ({@code default}, {@code 10.102.0.0/16}, or a bare address for a host route),
 * then attributes such as {@code proto kernel scope link src 10.101.0.1}.
 *
 * <p>It returns the unicast routes someone added to the device. It leaves out the routes the
 * kernel adds by itself for an interface address ({@code proto kernel}, e.g. the IPv6 link-local
 * {@code fe80::/64}) and typed routes ({@code unreachable}, {@code blackhole}, {@code local},
 * ...): the data plane neither owns nor removes them. Pure and thread-safe.
 */
final class IpRouteDump {
  private static final Set<String> ROUTE_TYPES =
      Set.of("unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit",
          "blackhole", "nat", "anycast");

  private IpRouteDump() {}

  /**
   * Parses the output for one address family.
   *
   * @param ipv6 whether it came from {@code ip -6}; decides what {@code default} means
   * @return distinct routes, sorted
   * @throws IllegalArgumentException naming the line that is not a route
   */
  public static List<Cidr> parse(String output, boolean ipv6) {
    TreeSet<Cidr> routes = new TreeSet<>();
    int lineNo = 0;
    for (String line : output.lines().toList()) {
      lineNo++;
      String[] tokens = line.strip().split("\\s+");
      if (tokens.length == 0 || tokens[0].isEmpty()) {
        continue;
      }
      int at = 0;
      if (ROUTE_TYPES.contains(tokens[0])) {
        if (!tokens[0].equals("unicast")) {
          continue;
        }
        at = 1;
      }
      if (at >= tokens.length || isKernel(tokens)) {
        continue;
      }
      routes.add(destination(tokens[at], ipv6, lineNo, line));
    }
    return List.copyOf(routes);
  }

  private static boolean isKernel(String[] tokens) {
    for (int i = 0; i + 1 < tokens.length; i++) {
      if (tokens[i].equals("proto") && tokens[i + 1].equals("kernel")) {
        return true;
      }
    }
    return false;
  }

  private static Cidr destination(String token, boolean ipv6, int lineNo, String line) {
    try {
      if (token.equals("default")) {
        return Cidr.parse(ipv6 ? "::/0" : "0.0.0.0/0");
      }
      return token.indexOf('/') >= 0 ? Cidr.parse(token) : Cidr.host(Cidr.parseAddress(token));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "ip route line " + lineNo + " \"" + line.strip() + "\": not a route: " + e.getMessage(), e);
    }
  }
}
