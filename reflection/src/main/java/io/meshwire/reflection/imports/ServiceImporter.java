package io.meshwire.reflection.imports;

import io.meshwire.reflection.catalog.Catalog;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ServiceImporter} keeps the imported objects of this cluster (ServiceImports, derived
 * Services, EndpointSlices) equal to what the known source catalogs call for. Level-triggered:
 * {@link #reconcile} reads the objects back, plans with {@link ImportPlanner} and applies only the
 * difference, so it can be called after every change and periodically to repair drift.
 *
 * <p>What removes objects: only {@link #removeSource} (the source is gone or revoked) and a source
 * catalog that no longer holds a service (it unexported). Losing the hub removes nothing, and a
 * source whose tunnel is down keeps its endpoints, turned not-ready ({@link #setSourceReady}), so
 * traffic moves to healthy clusters and comes back without re-creating anything.
 *
 * <p>Writes use resourceVersion: on a conflict the pass re-reads and retries, at most
 * {@link #MAX_PASSES} passes per call. Objects without meshwire's managed-by label are never
 * written; they are reported in {@link Result#refused}.
 *
 * <p>Thread-safe: the source table is guarded by this object; reconciliations are serialized.
 */
public final class ServiceImporter {

  private static final Logger log = LoggerFactory.getLogger(ServiceImporter.class);

  /** Passes per {@link #reconcile}: one, one more for cluster IPs assigned on create, two for races. */
  public static final int MAX_PASSES = 4;

  /** What one reconciliation did. */
  public record Result(int created, int updated, int deleted, List<String> refused, int conflicts, boolean converged) {
    public Result {
      refused = List.copyOf(refused);
    }
  }

  private final ImportApi api;
  private final Object reconcileLock = new Object();
  // @GuardedBy("this")
  private final Map<String, SourceState> sources = new TreeMap<>();
  // @GuardedBy("this"): readiness known before a source's first catalog
  private final Map<String, Boolean> readiness = new TreeMap<>();

  public ServiceImporter(ImportApi api) {
    this.api = api;
  }

  /** Sets the latest catalog of {@code cluster} and how this cluster sees its addresses. */
  public synchronized void putSource(String cluster, Catalog catalog, Function<InetAddress, InetAddress> translate) {
    sources.put(cluster, new SourceState(cluster, catalog, readiness.getOrDefault(cluster, true), translate));
  }

  /** Marks the tunnel to {@code cluster} up or down; its endpoints follow on the next reconcile. */
  public synchronized void setSourceReady(String cluster, boolean ready) {
    readiness.put(cluster, ready);
    sources.computeIfPresent(cluster, (k, s) -> s.withReady(ready));
  }

  /** Forgets {@code cluster}: the next reconcile deletes everything imported from it. */
  public synchronized void removeSource(String cluster) {
    sources.remove(cluster);
    readiness.remove(cluster);
  }

  /**
   * Forgets {@code cluster} and deletes what was imported from it alone now ({@link
   * ImportPlanner#removal}), without waiting for a full reconcile: a peer that left must stop
   * receiving traffic even while other sources' catalogs are still unknown. Objects it shared
   * with other sources are brought up to date by the next {@link #reconcile}.
   *
   * @throws KubeApiException when the objects cannot be read or a delete fails (the source is
   *     forgotten anyway: the next reconcile deletes what is left)
   */
  public Result removeSourceNow(String cluster) throws KubeApiException {
    removeSource(cluster);
    synchronized (reconcileLock) {
      int deleted = 0;
      for (KubeChange.Delete change : ImportPlanner.removal(cluster, api.list())) {
        try {
          api.delete(change.key(), change.resourceVersion());
          deleted++;
        } catch (KubeApiException e) {
          if (e.code() != 404 && e.code() != 409) {
            throw e;
          }
          // Gone already, or changed meanwhile: the next reconcile decides.
        }
      }
      return new Result(0, 0, deleted, List.of(), 0, true);
    }
  }

  public synchronized Set<String> sources() {
    return new TreeSet<>(sources.keySet());
  }

  private synchronized List<SourceState> snapshot() {
    return new ArrayList<>(sources.values());
  }

  /**
   * Brings the imported objects to the desired state.
   *
   * @throws KubeApiException when the objects cannot be read (nothing was written in that pass)
   */
  public Result reconcile() throws KubeApiException {
    synchronized (reconcileLock) {
      int created = 0;
      int updated = 0;
      int deleted = 0;
      int conflicts = 0;
      List<String> refused = new ArrayList<>();
      for (int pass = 1; pass <= MAX_PASSES; pass++) {
        refused.clear();
        Map<ObjectKey, Observed> actual = api.list();
        List<KubeChange> changes = ImportPlanner.diff(ImportPlanner.desired(snapshot(), actual), actual);
        boolean again = false;
        for (KubeChange change : changes) {
          try {
            switch (change) {
              case KubeChange.Refused r -> refused.add(r.key() + ": " + r.reason());
              case KubeChange.Create c -> {
                api.create(c.object());
                created++;
                again |= c.key().kind() == ObjectKey.Kind.SERVICE; // its cluster IP goes into the ServiceImport
              }
              case KubeChange.Update u -> {
                api.update(u.object(), u.resourceVersion());
                updated++;
              }
              case KubeChange.Delete d -> {
                api.delete(d.key(), d.resourceVersion());
                deleted++;
              }
            }
          } catch (KubeApiException e) {
            if (e.code() == 409 && change instanceof KubeChange.Create c
                && api.get(c.key()).map(o -> !o.managed()).orElse(false)) {
              // Not ours (the list only finds labelled Services and slices): leave it, report it.
              refused.add(c.key() + ": exists without the managed-by label (not created by meshwire)");
            } else if (e.code() == 409) {
              conflicts++;
              again = true;
            } else if (e.code() == 404 && change instanceof KubeChange.Create c) {
              refused.add(c.key() + ": cannot create (" + e.getMessage() + "); does the namespace exist?");
            } else if (e.code() != 404) {
              throw e;
            }
          }
        }
        if (!again) {
          refused.forEach(r -> log.warn("import object left alone {}", r));
          return new Result(created, updated, deleted, refused, conflicts, true);
        }
      }
      log.info("import reconcile did not converge passes={} conflicts={}", MAX_PASSES, conflicts);
      return new Result(created, updated, deleted, refused, conflicts, false);
    }
  }
}
