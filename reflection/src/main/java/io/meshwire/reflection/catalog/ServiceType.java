package io.meshwire.reflection.catalog;

/**
 * {@code ServiceType} is how importers expose a service, with the names the Multi-Cluster Services
 * API gives them in {@code ServiceImport.spec.type}.
 */
public enum ServiceType {
  /** One virtual IP for the service across the clusterset (a ClusterIP Service at the source). */
  CLUSTER_SET_IP("ClusterSetIP"),
  /** No virtual IP: DNS answers with endpoint addresses (a headless Service at the source). */
  HEADLESS("Headless");

  private final String mcsName;

  ServiceType(String mcsName) {
    this.mcsName = mcsName;
  }

  /** {@code ClusterSetIP} or {@code Headless}. */
  public String mcsName() {
    return mcsName;
  }

  /**
   * The type named {@code mcsName}.
   *
   * @throws IllegalArgumentException naming the value and the allowed ones
   */
  public static ServiceType fromMcsName(String mcsName) {
    for (ServiceType t : values()) {
      if (t.mcsName.equals(mcsName)) {
        return t;
      }
    }
    throw new IllegalArgumentException("service type \"" + mcsName + "\": expected ClusterSetIP or Headless");
  }
}
