package io.meshwire.reflection.catalog;

/**
 * {@code CatalogChange} is one step between two revisions of a catalog: each change moves the
 * catalog to {@link #revision()}, exactly one higher than the revision before it.
 */
public sealed interface CatalogChange {

  /** The catalog revision this change brings the catalog to. */
  long revision();

  /** The service this change concerns. */
  ServiceRef ref();

  /** A service was exported or changed. */
  record Upserted(long revision, ExportedService service) implements CatalogChange {
    @Override
    public ServiceRef ref() {
      return service.ref();
    }
  }

  /** A service is no longer exported. */
  record Removed(long revision, ServiceRef ref) implements CatalogChange {}
}
