package io.meshwire.agent.identity;

import io.meshwire.agent.hub.HubConnection;
import io.meshwire.agent.hub.HubSession;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ClusterIdentity} is the cluster's certificate and what keeps it: the credential files in
 * the state directory ({@code cluster.key}, {@code cluster.crt}, {@code ca.crt}), enrollment with
 * the join token when there are none, and renewal once 2/3 of the certificate's lifetime has
 * passed. It makes the one hub connection of the agent (with the credentials it holds) and tells
 * the agent when credentials appear or change.
 *
 * <p>The hub calls are injected ({@link Enroller}, and a factory of connections), so enrollment and
 * renewal timing are tested without a network. Thread-safety: the connection is held in an atomic
 * reference; {@link #connect()} runs on the session thread, {@link #renewIfDue} on the session
 * thread or the agent's timer.
 */
public final class ClusterIdentity implements HubSession.Connector {

  private static final Logger log = LoggerFactory.getLogger(ClusterIdentity.class);

  /** Enrolls with a join token: {@code HubClient.enroll} in the agent. */
  @FunctionalInterface
  public interface Enroller {
    TlsCredentials enroll(X509Certificate ca, String mesh, String clusterId, String joinToken);
  }

  private final Path dir;
  private final String clusterId;
  private final Optional<String> joinToken;
  private final Optional<Path> hubCa;
  private final InstantSource clock;
  private final Enroller enroller;
  private final Function<TlsCredentials, HubConnection> connections;
  private final Consumer<TlsCredentials> ready;
  private final Consumer<TlsCredentials> renewed;
  private final AtomicReference<HubConnection> hub = new AtomicReference<>();

  /**
   * @param connections opens the hub connection presenting the given credentials
   * @param ready called with the credentials once the first connection is made
   * @param renewed called with new credentials after a renewal (already on disk)
   */
  public ClusterIdentity(Path dir, String clusterId, Optional<String> joinToken, Optional<Path> hubCa,
      InstantSource clock, Enroller enroller, Function<TlsCredentials, HubConnection> connections,
      Consumer<TlsCredentials> ready, Consumer<TlsCredentials> renewed) {
    this.dir = dir;
    this.clusterId = clusterId;
    this.joinToken = joinToken;
    this.hubCa = hubCa;
    this.clock = clock;
    this.enroller = enroller;
    this.connections = connections;
    this.ready = ready;
    this.renewed = renewed;
  }

  /** The stored credentials, if the cluster has enrolled. */
  public Optional<TlsCredentials> stored() {
    return Files.exists(dir.resolve("cluster.crt")) ? Optional.of(TlsCredentials.load(dir, "cluster"))
        : Optional.empty();
  }

  @Override
  public HubConnection connect() throws IOException {
    HubConnection existing = hub.get();
    if (existing != null) {
      return existing;
    }
    TlsCredentials creds;
    if (Files.exists(dir.resolve("cluster.crt"))) {
      creds = TlsCredentials.load(dir, "cluster");
    } else {
      String token = joinToken.orElseThrow(() -> new IllegalStateException(
          "no certificate in " + dir + " and no join token (set join-token or join-token-file)"));
      Path caFile = Files.exists(dir.resolve("ca.crt")) ? dir.resolve("ca.crt")
          : hubCa.orElseThrow(() -> new IllegalStateException(
              "no certificate in " + dir + " and no hub-ca to verify the hub while enrolling"));
      X509Certificate ca = Pem.readCertificate(caFile);
      creds = enroller.enroll(ca, MeshCa.meshOf(ca), clusterId, token);
      write(creds);
      log.info("enrolled cluster={} not_after={}", clusterId, creds.leaf().getNotAfter().toInstant());
    }
    HubConnection client = connections.apply(creds);
    hub.set(client);
    ready.accept(creds);
    return client;
  }

  @Override
  public Optional<HubConnection> current() {
    return Optional.ofNullable(hub.get());
  }

  /** When a certificate is due for renewal: once 2/3 of its lifetime has passed. */
  public static Instant renewalDue(X509Certificate leaf) {
    Instant notBefore = leaf.getNotBefore().toInstant();
    Instant notAfter = leaf.getNotAfter().toInstant();
    return notBefore.plus(Duration.between(notBefore, notAfter).multipliedBy(2).dividedBy(3));
  }

  /** Renews the certificate once 2/3 of its lifetime has passed. */
  @Override
  public void renewIfDue(HubConnection client) {
    TlsCredentials creds = TlsCredentials.load(dir, "cluster");
    if (clock.instant().isBefore(renewalDue(creds.leaf()))) {
      return;
    }
    TlsCredentials fresh = client.renew(new SpiffeId(MeshCa.meshOf(creds.trustAnchors().get(0)), Role.CLUSTER,
        clusterId));
    write(fresh);
    client.useCredentials(fresh);
    renewed.accept(fresh);
    log.info("certificate renewed cluster={} not_after={}", clusterId, fresh.leaf().getNotAfter().toInstant());
  }

  /** {@link #renewIfDue} from the background timer: a failure is logged, the next check retries. */
  public void renewInBackground(HubConnection client) {
    try {
      renewIfDue(client);
    } catch (RuntimeException e) {
      log.warn("certificate renewal failed error=\"{}\"; retrying within the hour", e.getMessage());
    }
  }

  private void write(TlsCredentials creds) {
    Pem.writePrivateKey(dir.resolve("cluster.key"), creds.privateKey());
    Pem.writeCertificates(dir.resolve("cluster.crt"), creds.chain());
    Pem.writeCertificates(dir.resolve("ca.crt"), creds.trustAnchors());
  }

  /** Closes the hub connection. */
  public void close() {
    HubConnection c = hub.get();
    if (c != null) {
      c.close();
    }
  }
}
