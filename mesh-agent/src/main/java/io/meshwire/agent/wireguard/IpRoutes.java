package io.meshwire.agent.wireguard;

import io.meshwire.agent.exec.CommandFailedException;
import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.netaddr.Cidr;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code IpRoutes} is the {@link Routes} driver built on iproute2 ({@code ip route}), main table.
 * Thread-safe and stateless; each call runs {@code ip} once or twice.
 */
public final class IpRoutes implements Routes {
  private static final Logger log = LoggerFactory.getLogger(IpRoutes.class);

  private final CommandRunner runner;
  private final Duration timeout;

  /**
   * @param runner runs {@code ip}
   * @param timeout for each {@code ip} invocation
   */
  public IpRoutes(CommandRunner runner, Duration timeout) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /** With a 10 second timeout per command. */
  public IpRoutes(CommandRunner runner) {
    this(runner, Duration.ofSeconds(10));
  }

  @Override
  public List<Cidr> routesVia(String ifName) {
    WgToolsWireGuard.checkIfName(ifName);
    TreeSet<Cidr> routes = new TreeSet<>();
    routes.addAll(IpRouteDump.parse(show("-4", ifName), false));
    routes.addAll(IpRouteDump.parse(show("-6", ifName), true));
    return List.copyOf(routes);
  }

  @Override
  public void addRoute(Cidr destination, String ifName) {
    WgToolsWireGuard.checkIfName(ifName);
    runner.run(
        List.of("ip", family(destination), "route", "replace", destination.toString(), "dev", ifName),
        timeout);
    log.debug("route replaced destination={} dev={}", destination, ifName);
  }

  @Override
  public void deleteRoute(Cidr destination, String ifName) {
    WgToolsWireGuard.checkIfName(ifName);
    try {
      runner.run(
          List.of("ip", family(destination), "route", "del", destination.toString(), "dev", ifName),
          timeout);
      log.debug("route deleted destination={} dev={}", destination, ifName);
    } catch (CommandFailedException e) {
      // ESRCH: the route is already gone, which is what the caller wants.
      if (!e.timedOut() && e.stderr().contains("No such process")) {
        log.debug("route already absent destination={} dev={}", destination, ifName);
        return;
      }
      throw e;
    }
  }

  private String show(String family, String ifName) {
    return runner.run(List.of("ip", "-o", family, "route", "show", "dev", ifName), timeout).stdout();
  }

  private static String family(Cidr cidr) {
    return cidr.isIpv4() ? "-4" : "-6";
  }
}
