package io.meshwire.testsupport.etcd;

import io.meshwire.netlab.etcd.EtcdCluster;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code EtcdClusterExtension} is the JUnit glue for {@link EtcdCluster}: register it as a static
 * field with {@code @RegisterExtension}; the cluster starts before the class's tests and is killed
 * and deleted after them, whatever happened.
 */
public final class EtcdClusterExtension implements BeforeAllCallback, AfterAllCallback {

  private final int size;
  private EtcdCluster cluster;

  public EtcdClusterExtension(int size) {
    this.size = size;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    cluster = EtcdCluster.start(size);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (cluster != null) {
      cluster.close();
      cluster = null;
    }
  }

  /** The running cluster (only between beforeAll and afterAll). */
  public EtcdCluster cluster() {
    if (cluster == null) {
      throw new IllegalStateException("the etcd cluster runs only while the test class runs");
    }
    return cluster;
  }
}
