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
 * renewal timing are tested without a network. Thread-safety: {@link #connect()} and
 * {@link #renewIfDue} (session thread, or the agent's hourly timer) are serialized on this object,
 * so two renewals never write the credential files at once; {@link #current()} reads an atomic
 * reference.
 *
 * <p>The three files are written as one set ({@link TlsCredentials#writeTo}): a crash between
 * them leaves the old set or the new one, never a new key beside the old certificate.
 */
public final class ClusterIdentity implements HubSession.Connector {

  private static final Logger log = LoggerFactory.getLogger(ClusterIdentity.class);
  private static final String BASE_NAME = "cluster";

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

  /**
   * Checks that the agent can get a certificate: it has one, or a join token and a CA to verify
   * the hub while enrolling. A missing setting fails the agent's start, not every later session.
   *
   * @throws IllegalArgumentException naming the missing setting
   */
  public static void checkConfigured(Path dir, Optional<String> joinToken, Optional<Path> hubCa) {
    Path certificateFile = dir.resolve(BASE_NAME + ".crt");
    if (Files.exists(certificateFile)) {
      return;
    }
    if (joinToken.isEmpty()) {
      throw new IllegalArgumentException("join-token: required while " + certificateFile
          + " does not exist (set join-token or join-token-file)");
    }
    if (!Files.exists(dir.resolve(MeshCa.CERT_FILE)) && hubCa.isEmpty()) {
      throw new IllegalArgumentException("hub-ca: required to verify the hub while enrolling (no "
          + dir.resolve(MeshCa.CERT_FILE) + " yet)");
    }
  }

  /** The stored credentials, if the cluster has enrolled. */
  public Optional<TlsCredentials> stored() {
    return Files.exists(certificateFile()) ? Optional.of(TlsCredentials.load(dir, BASE_NAME)) : Optional.empty();
  }

  private Path certificateFile() {
    return dir.resolve(BASE_NAME + ".crt");
  }

  @Override
  public synchronized HubConnection connect() throws IOException {
    HubConnection existing = hub.get();
    if (existing != null) {
      return existing;
    }
    TlsCredentials creds;
    if (Files.exists(certificateFile())) {
      creds = TlsCredentials.load(dir, BASE_NAME);
    } else {
      String token = joinToken.orElseThrow(() -> new IllegalStateException(
          "no certificate in " + dir + " and no join token (set join-token or join-token-file)"));
      Path caFile = Files.exists(dir.resolve(MeshCa.CERT_FILE)) ? dir.resolve(MeshCa.CERT_FILE)
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
  public synchronized void renewIfDue(HubConnection client) {
    TlsCredentials creds = TlsCredentials.load(dir, BASE_NAME);
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

  /** Key, certificate and CA as one set: a crash leaves the old three or the new three. */
  private void write(TlsCredentials creds) {
    creds.writeTo(dir, BASE_NAME);
  }

  @Override
  public void reset() {
    HubConnection c = hub.getAndSet(null);
    if (c != null) {
      c.close();
    }
  }

  /** Closes the hub connection. */
  public void close() {
    reset();
  }
}
