package io.meshwire.hub.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code EtcdClients} connects a hub replica to etcd over mutual TLS and tells apart the ways that
 * can fail (bad files, unreachable members, refused certificates, no quorum) in words an operator
 * can act on. Stateless.
 */
public final class EtcdClients {

  private EtcdClients() {}

  /**
   * A client for {@code settings}; checks that at least one member answers over TLS.
   *
   * @throws EtcdStartException naming the problem (certificate files, TLS refusal, unreachable)
   */
  public static Client connect(EtcdSettings settings, Duration timeout) {
    SslContext ssl;
    try {
      ssl = GrpcSslContexts.forClient()
          .trustManager(settings.ca().toFile())
          .keyManager(settings.cert().toFile(), settings.key().toFile())
          .build();
    } catch (Exception | Error e) {
      throw new EtcdStartException("etcd TLS files (--etcd-ca " + settings.ca() + ", --etcd-cert " + settings.cert()
          + ", --etcd-key " + settings.key() + ") do not load: " + EtcdCalls.rootMessage(e), e);
    }
    Client client = Client.builder()
        .endpoints(settings.endpoints().toArray(URI[]::new))
        .sslContext(ssl)
        .connectTimeout(timeout)
        .keepaliveTime(Duration.ofSeconds(5))
        .keepaliveTimeout(Duration.ofSeconds(3))
        .keepaliveWithoutCalls(true)
        .retryMaxAttempts(2)
        .retryMaxDuration(timeout)
        .build();
    List<String> failures = new ArrayList<>();
    for (URI endpoint : settings.endpoints()) {
      try {
        EtcdCalls.await(client.getMaintenanceClient().statusMember(endpoint.toString()), timeout,
            "status of " + endpoint);
        return client;
      } catch (EtcdCalls.EtcdCallException e) {
        failures.add(e.getMessage());
      }
    }
    client.close();
    String all = String.join("; ", failures);
    String hint = all.contains("certificate") || all.contains("SSL") || all.contains("handshake")
        || all.contains("PKIX") || all.contains("bad_certificate") || all.contains("unknown_ca")
        ? "TLS refused: check --etcd-ca, --etcd-cert and --etcd-key"
        : "etcd is unreachable";
    throw new EtcdStartException(hint + " (endpoints " + settings.endpoints() + "): " + all);
  }

  /**
   * Why writes fail: "etcd has no quorum" when members answer but none has a leader,
   * "etcd is unreachable" when none answers. Used for UNAVAILABLE messages and health.
   */
  static String diagnose(Client client, List<URI> endpoints, Duration timeout) {
    int answered = 0;
    boolean leader = false;
    for (URI endpoint : endpoints) {
      try {
        StatusResponse s = EtcdCalls.await(client.getMaintenanceClient().statusMember(endpoint.toString()), timeout,
            "status of " + endpoint);
        answered++;
        leader |= s.getLeader() != 0;
      } catch (EtcdCalls.EtcdCallException e) {
        // counted as not answering
      }
    }
    if (answered == 0) {
      return "etcd is unreachable (no member of " + endpoints.size() + " answered)";
    }
    if (!leader) {
      return "etcd has no quorum (" + answered + " of " + endpoints.size() + " members answer, none has a leader)";
    }
    return "etcd has no quorum or is overloaded (" + answered + " of " + endpoints.size()
        + " members answer, the write was not committed in time)";
  }
}
