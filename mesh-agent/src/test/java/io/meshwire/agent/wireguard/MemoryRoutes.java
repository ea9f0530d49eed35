package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.util.List;
import java.util.TreeSet;

/** An in-memory routing table for {@link Routes} in unit tests (one interface). */
public final class MemoryRoutes implements Routes {
  public final TreeSet<Cidr> routes = new TreeSet<>();

  @Override
  public synchronized List<Cidr> routesVia(String ifName) {
    return List.copyOf(routes);
  }

  @Override
  public synchronized void addRoute(Cidr destination, String ifName) {
    routes.add(destination);
  }

  @Override
  public synchronized void deleteRoute(Cidr destination, String ifName) {
    routes.remove(destination);
  }
}
