package io.meshwire.hub;

import io.meshwire.testsupport.etcd.EtcdClusterExtension;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The peering policy cases of {@link PeeringPolicyTest} on two hub replicas sharing a real
 * 3-member etcd cluster: the operator changes labels and policies through replica A, the agents
 * enroll, announce and watch on replica B; each agent must receive exactly what the file store
 * sends it (the same deltas at one revision, the same snapshots, also after B restarts).
 */
@Timeout(180) // a hung admin call (no deadline on the blocking stubs) must not stall the suite
class EtcdPeeringPolicyIT extends PeeringPolicyTest {

  @RegisterExtension static final EtcdClusterExtension ETCD = new EtcdClusterExtension(3);

  private HubFixture replicaA;

  @Override
  protected HubFixture startHub(Path data, Map<String, String> settings) throws Exception {
    String prefix = "/policy-" + UUID.randomUUID() + "/";
    replicaA = new HubFixture(data.resolve("a"), etcd(settings, "hub-a", prefix));
    HubFixture.copyTree(data.resolve("a/ca"), data.resolve("b/ca"));
    HubFixture.copyTree(data.resolve("a/admin"), data.resolve("b/admin"));
    return new HubFixture(data.resolve("b"), etcd(settings, "hub-b", prefix));
  }

  @Override
  protected HubFixture adminHub() {
    return replicaA;
  }

  private static Map<String, String> etcd(Map<String, String> settings, String hubName, String prefix) {
    Map<String, String> s = HubFixture.etcdSettings(ETCD.cluster(), ETCD.cluster().clientTls(), hubName, prefix);
    s.putAll(settings);
    return s;
  }

  @AfterEach
  void closeReplicaA() {
    if (replicaA != null) {
      replicaA.close();
    }
  }
}
