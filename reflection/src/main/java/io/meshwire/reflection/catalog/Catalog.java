package io.meshwire.reflection.catalog;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * {@code Catalog} is the set of services one cluster exports, at one revision. Immutable; services
 * are sorted by {@link ServiceRef} and unique.
 *
 * <p>Revisions count changes: {@link #next} raises the revision by the number of services that
 * were added, changed or removed, so every {@link CatalogChange} between two catalogs has its own
 * revision and a reader can resume after any of them. Revisions are comparable only within one
 * {@code catalogUid} (one incarnation of the exporting agent).
 */
public record Catalog(String catalogUid, long revision, List<ExportedService> services) {

  public Catalog {
    Objects.requireNonNull(catalogUid, "catalogUid");
    if (revision < 0) {
      throw new IllegalArgumentException("catalog revision " + revision + " is negative");
    }
    TreeMap<ServiceRef, ExportedService> sorted = new TreeMap<>();
    for (ExportedService s : services) {
      if (sorted.put(s.ref(), s) != null) {
        throw new IllegalArgumentException("catalog " + catalogUid + ": service " + s.ref() + " appears twice");
      }
    }
    services = List.copyOf(sorted.values());
  }

  /** An empty catalog at revision 0 with a new random uid. */
  public static Catalog empty() {
    return empty(UUID.randomUUID().toString());
  }

  /** An empty catalog at revision 0. */
  public static Catalog empty(String catalogUid) {
    return new Catalog(catalogUid, 0, List.of());
  }

  /** The services by reference, sorted. */
  public Map<ServiceRef, ExportedService> byRef() {
    TreeMap<ServiceRef, ExportedService> out = new TreeMap<>();
    services.forEach(s -> out.put(s.ref(), s));
    return out;
  }

  public Optional<ExportedService> find(ServiceRef ref) {
    return services.stream().filter(s -> s.ref().equals(ref)).findFirst();
  }

  /**
   * The changes that turn this catalog into one holding exactly {@code wanted}, numbered from
   * {@code revision + 1} in {@link ServiceRef} order. Empty when nothing differs.
   */
  public List<CatalogChange> changesTo(Collection<ExportedService> wanted) {
    Map<ServiceRef, ExportedService> before = byRef();
    TreeMap<ServiceRef, ExportedService> after = new TreeMap<>();
    wanted.forEach(s -> after.put(s.ref(), s));
    TreeMap<ServiceRef, Boolean> refs = new TreeMap<>();
    before.keySet().forEach(r -> refs.put(r, true));
    after.keySet().forEach(r -> refs.put(r, true));
    List<CatalogChange> changes = new ArrayList<>();
    long next = revision;
    for (ServiceRef ref : refs.keySet()) {
      ExportedService old = before.get(ref);
      ExportedService now = after.get(ref);
      if (now == null) {
        changes.add(new CatalogChange.Removed(++next, ref));
      } else if (!now.equals(old)) {
        changes.add(new CatalogChange.Upserted(++next, now));
      }
    }
    return changes;
  }

  /** The catalog holding {@code wanted}, its revision raised by one per change (this one if none). */
  public Catalog next(Collection<ExportedService> wanted) {
    List<CatalogChange> changes = changesTo(wanted);
    if (changes.isEmpty()) {
      return this;
    }
    return new Catalog(catalogUid, revision + changes.size(), List.copyOf(wanted));
  }

  /**
   * This catalog with {@code change} applied and its revision set to the change's.
   *
   * @throws IllegalArgumentException if the change does not come after this revision
   */
  public Catalog apply(CatalogChange change) {
    if (change.revision() <= revision) {
      throw new IllegalArgumentException("catalog " + catalogUid + ": change to revision " + change.revision()
          + " does not follow revision " + revision);
    }
    Map<ServiceRef, ExportedService> map = byRef();
    switch (change) {
      case CatalogChange.Upserted u -> map.put(u.ref(), u.service());
      case CatalogChange.Removed r -> map.remove(r.ref());
    }
    return new Catalog(catalogUid, change.revision(), List.copyOf(map.values()));
  }

  @Override
  public String toString() {
    return "Catalog[uid=" + catalogUid + " revision=" + revision + " services=" + services.size() + "]";
  }
}
