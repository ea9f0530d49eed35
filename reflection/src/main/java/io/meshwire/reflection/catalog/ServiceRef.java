package io.meshwire.reflection.catalog;

import java.util.Comparator;
import java.util.Objects;

/**
 * {@code ServiceRef} names an exported service: the namespace and name it has in every cluster
 * (namespace sameness, as the Multi-Cluster Services API assumes). Immutable; ordered by namespace,
 * then name.
 */
public record ServiceRef(String namespace, String name) implements Comparable<ServiceRef> {

  private static final Comparator<ServiceRef> ORDER =
      Comparator.comparing(ServiceRef::namespace).thenComparing(ServiceRef::name);

  public ServiceRef {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  @Override
  public int compareTo(ServiceRef other) {
    return ORDER.compare(this, other);
  }

  /** {@code namespace/name}. */
  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
