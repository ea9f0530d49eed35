package io.meshwire.reflection.imports;

import java.util.Comparator;

/** {@code ObjectKey} names one Kubernetes object the importer maintains. Ordered by kind, namespace, name. */
record ObjectKey(Kind kind, String namespace, String name) implements Comparable<ObjectKey> {

  /** The kinds the importer writes, in the order they are created (deleted in reverse). */
  public enum Kind {
    /** The derived ClusterIP (or headless) Service kube-proxy load-balances. */
    SERVICE,
    /** Endpoints of one source cluster. */
    ENDPOINT_SLICE,
    /** The clusterset view of the service. */
    SERVICE_IMPORT
  }

  private static final Comparator<ObjectKey> ORDER = Comparator.comparing(ObjectKey::kind)
      .thenComparing(ObjectKey::namespace).thenComparing(ObjectKey::name);

  @Override
  public int compareTo(ObjectKey o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return kind + " " + namespace + "/" + name;
  }
}
