package io.meshwire.reflection.catalog;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code Conflicts} resolves how one service exported by several clusters is imported, following
 * the Multi-Cluster Services API: the oldest export (earliest {@code exportedAt}, ties by cluster
 * name) decides the type; ports are the union of all exports, and where two exports disagree on a
 * port (same name with another number or protocol, or the same number and protocol under another
 * name) the older one wins. A cluster that lost on type or on a port is in conflict; both the
 * export side (ServiceExport condition {@code Conflict}) and the import side use this one function.
 * Pure.
 */
public final class Conflicts {

  private Conflicts() {}

  /** Why a cluster's export lost: {@code reason} is {@code TypeConflict} or {@code PortConflict}. */
  public record Conflict(String reason, String message) {}

  /** The merged view of one service and the clusters whose exports lost on something. */
  public record Merged(ServiceType type, List<ServicePort> ports, String oldestCluster, Map<String, Conflict> conflicts) {
    public Merged {
      ports = List.copyOf(ports);
      conflicts = java.util.Collections.unmodifiableMap(new TreeMap<>(conflicts));
    }
  }

  public static final String TYPE_CONFLICT = "TypeConflict";
  public static final String PORT_CONFLICT = "PortConflict";
  public static final String NO_CONFLICTS = "NoConflicts";

  /**
   * Merges the exports of one service, keyed by cluster.
   *
   * @throws IllegalArgumentException if {@code byCluster} is empty
   */
  public static Merged merge(Map<String, ExportedService> byCluster) {
    if (byCluster.isEmpty()) {
      throw new IllegalArgumentException("no export to merge");
    }
    List<Map.Entry<String, ExportedService>> ordered = new ArrayList<>(byCluster.entrySet());
    ordered.sort(Comparator.comparing((Map.Entry<String, ExportedService> e) -> e.getValue().exportedAt())
        .thenComparing(Map.Entry::getKey));
    String oldest = ordered.get(0).getKey();
    ExportedService winner = ordered.get(0).getValue();
    Map<String, ServicePort> byName = new LinkedHashMap<>();
    Map<String, String> owners = new LinkedHashMap<>();
    Map<String, Conflict> conflicts = new TreeMap<>();
    for (Map.Entry<String, ExportedService> e : ordered) {
      String cluster = e.getKey();
      ExportedService s = e.getValue();
      if (s.type() != winner.type()) {
        conflicts.put(cluster, new Conflict(TYPE_CONFLICT, "exported as " + s.type().mcsName() + " but cluster "
            + oldest + " exported it first as " + winner.type().mcsName()));
      }
      for (ServicePort p : s.ports()) {
        ServicePort same = byName.get(p.name());
        if (same != null) {
          if (same.port() != p.port() || !same.protocol().equals(p.protocol())
              || !same.appProtocol().equals(p.appProtocol())) {
            conflicts.putIfAbsent(cluster, new Conflict(PORT_CONFLICT, "port " + describe(p) + " differs from "
                + describe(same) + " exported first by cluster " + owners.get(p.name())));
          }
          continue;
        }
        String clash = byName.values().stream()
            .filter(q -> q.port() == p.port() && q.protocol().equals(p.protocol()))
            .map(ServicePort::name).findFirst().orElse(null);
        if (clash != null) {
          conflicts.putIfAbsent(cluster, new Conflict(PORT_CONFLICT, "port " + describe(p) + " is exported as "
              + describe(byName.get(clash)) + " by cluster " + owners.get(clash)));
          continue;
        }
        byName.put(p.name(), p);
        owners.put(p.name(), cluster);
      }
    }
    return new Merged(winner.type(), new ArrayList<>(byName.values()), oldest, conflicts);
  }

  private static String describe(ServicePort p) {
    return "\"" + p.name() + "\" " + p.port() + "/" + p.protocol()
        + (p.appProtocol().isEmpty() ? "" : " (" + p.appProtocol() + ")");
  }
}
