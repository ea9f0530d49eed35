package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.util.List;

/**
 * {@code Routes} is the driver for the routes that send traffic into a WireGuard interface (WireGuard
 * itself adds none). The real implementation is {@link IpRoutes}, on the main routing table.
 *
 * <p>Methods block while {@code ip} runs and throw {@link
 * io.meshwire.agent.exec.CommandFailedException} naming the command when it fails. Implementations
 * are thread-safe.
 */
interface Routes {

  /**
   * IPv4 and IPv6 routes through {@code ifName}, sorted, without those the kernel adds for the
   * interface's own addresses (see {@link IpRouteDump}).
   */
  List<Cidr> routesVia(String ifName);

  /**
   * Routes {@code destination} through {@code ifName}, replacing any route to the
   * same destination. Idempotent.
   */
  void addRoute(Cidr destination, String ifName);

  /** Deletes the route to {@code destination} through {@code ifName}; a missing route is fine. */
  void deleteRoute(Cidr destination, String ifName);
}
