package io.meshwire.hub.etcd;

import io.etcd.jetcd.Client;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.log.MembershipContract;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.netlab.etcd.EtcdCluster;
import io.meshwire.testsupport.etcd.EtcdClusterExtension;
import java.net.URI;
import java.time.InstantSource;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The membership contract on a real 3-member etcd cluster over mutual TLS, one fresh prefix per test. */
class EtcdMembershipContractIT extends MembershipContract {

  @RegisterExtension static final EtcdClusterExtension ETCD = new EtcdClusterExtension(3);

  private Client client;
  private ScheduledExecutorService scheduler;

  @Override
  protected Membership open() {
    EtcdCluster etcd = ETCD.cluster();
    EtcdSettings settings = settings(etcd, "/contract-" + UUID.randomUUID() + "/");
    client = EtcdClients.connect(settings, java.time.Duration.ofSeconds(5));
    scheduler = Executors.newScheduledThreadPool(2);
    return EtcdMembership.open(client, settings, "meshwire", "ca-fingerprint", new ProtoEventCodec(),
        InstantSource.system(), EtcdMembership.Options.defaults("replica-a"), scheduler, Map.of());
  }

  static EtcdSettings settings(EtcdCluster etcd, String prefix) {
    var tls = etcd.clientTls();
    return new EtcdSettings(etcd.endpoints().stream().map(URI::create).toList(), tls.ca(), tls.cert(), tls.key(),
        prefix);
  }

  @AfterEach
  void closeClient() {
    membership.close();
    membership = null;
    scheduler.shutdownNow();
    client.close();
  }
}
