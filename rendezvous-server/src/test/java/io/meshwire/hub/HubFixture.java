package io.meshwire.hub;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.meshwire.certs.Csrs;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.SpiffeTrustManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubServer;
import io.meshwire.proto.admin.v1.CreateJoinTokenRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.enrollment.v1.IssuedCertificate;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code HubFixture} runs a real hub on 127.0.0.1 (TLS, random port) over a data directory, and
 * makes clients for it: admin, enrolled clusters, anonymous. {@link #restart()} keeps the data.
 */
public final class HubFixture implements AutoCloseable {

  private final Path dataDir;
  private final Map<String, String> settings;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final io.micrometer.core.instrument.MeterRegistry meters;
  private HubServer hub;
  private int port;

  public HubFixture(Path dataDir, Map<String, String> settings) throws Exception {
    this.dataDir = dataDir;
    this.settings = new HashMap<>(settings);
    this.settings.put("data-dir", dataDir.toString());
    this.settings.putIfAbsent("listen", "127.0.0.1:0");
    this.settings.putIfAbsent("mesh", "test.mesh");
    // The metrics listener (/metrics, /ready) serves a Prometheus registry only.
    this.meters = this.settings.containsKey("metrics-listen")
        ? new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT)
        : new SimpleMeterRegistry();
    start();
  }

  public HubFixture(Path dataDir) throws Exception {
    this(dataDir, Map.of());
  }

  private void start() throws Exception {
    hub = HubServer.start(HubConfig.parse(settings), InstantSource.system(), meters);
    port = hub.port();
    settings.put("listen", "127.0.0.1:" + port); // a restart comes back on the same port
  }

  /** Stops the hub and starts it again on the same data directory and port. */
  public void restart() throws Exception {
    restart(Map.of());
  }

  /**
   * Stops the hub (if it runs) and starts it again with {@code changes} applied to its settings.
   * When the start fails, the fixture is left without a hub until a later restart succeeds.
   */
  public void restart(Map<String, String> changes) throws Exception {
    if (hub != null) {
      hub.close();
      hub = null;
    }
    settings.putAll(changes);
    start();
  }

  /** The hub's metrics (the same registry across restarts). */
  public io.micrometer.core.instrument.MeterRegistry meters() {
    return meters;
  }

  public HubServer hub() {
    return hub;
  }

  public int port() {
    return port;
  }

  public MeshCa ca() {
    return hub.ca();
  }

  public TlsCredentials admin() {
    return TlsCredentials.load(dataDir.resolve("admin"), "admin");
  }

  /** A channel presenting {@code credentials} (null: no client certificate) and trusting the mesh CA. */
  public ManagedChannel channel(TlsCredentials credentials) {
    ManagedChannel ch = channel(ca().certificate(), ca().mesh(), port, credentials);
    channels.add(ch);
    return ch;
  }

  private static ManagedChannel channel(X509Certificate caCert, String mesh, int port, TlsCredentials credentials) {
    try {
      SslContextBuilder tls = GrpcSslContexts.forClient()
          .protocols("TLSv1.3")
          .trustManager(new SpiffeTrustManager(List.of(caCert), mesh, InstantSource.system(),
              id -> id.role() == Role.HUB, "a hub certificate"));
      if (credentials != null) {
        tls.keyManager(credentials.privateKey(), credentials.chain().toArray(X509Certificate[]::new));
      }
      return NettyChannelBuilder.forAddress("127.0.0.1", port).sslContext(tls.build()).build();
    } catch (javax.net.ssl.SSLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Clients for a hub running elsewhere (a child process) over {@code dataDir}'s CA. */
  public static Client client(Path dataDir, int port) {
    return new Client(MeshCa.load(dataDir.resolve("ca"), InstantSource.system()).certificate(), port);
  }

  /** {@code Client} makes channels to one hub address and closes them all at the end. */
  public static final class Client implements AutoCloseable {
    private final X509Certificate caCert;
    private final int port;
    private final List<ManagedChannel> open = new java.util.concurrent.CopyOnWriteArrayList<>();

    Client(X509Certificate caCert, int port) {
      this.caCert = caCert;
      this.port = port;
    }

    public ManagedChannel channel(TlsCredentials credentials) {
      ManagedChannel ch = HubFixture.channel(caCert, MeshCa.meshOf(caCert), port, credentials);
      open.add(ch);
      return ch;
    }

    @Override
    public void close() {
      open.forEach(ManagedChannel::shutdownNow);
    }
  }

  public String createToken(String clusterId) {
    return MeshAdminGrpc.newBlockingStub(channel(admin()))
        .createJoinToken(CreateJoinTokenRequest.newBuilder().setClusterId(clusterId).build())
        .getToken();
  }

  /** Enrolls {@code clusterId} through the Enrollment API with a fresh token; returns its credentials. */
  public TlsCredentials enroll(String clusterId) {
    KeyPair keys = Csrs.newKeyPair();
    byte[] csr = Csrs.create(keys, new SpiffeId(ca().mesh(), Role.CLUSTER, clusterId));
    IssuedCertificate issued = EnrollmentGrpc.newBlockingStub(channel(null))
        .enroll(EnrollRequest.newBuilder().setJoinToken(createToken(clusterId)).setCsrDer(ByteString.copyFrom(csr)).build())
        .getCertificate();
    X509Certificate leaf = Pem.certificateFromDer(issued.getCertificateChainDer(0).toByteArray(), "enroll response");
    return new TlsCredentials(keys.getPrivate(), List.of(leaf), List.of(ca().certificate()));
  }

  /** Credentials for any identity, signed offline by the mesh CA (bypassing enrollment). */
  public TlsCredentials issue(Role role, String name) {
    return TlsCredentials.of(ca().issue(new SpiffeId(ca().mesh(), role, name), Duration.ofDays(1)));
  }

  /** A valid record for {@code clusterId} with pod CIDR 10.{n}.0.0/16. */
  public static ClusterRecord record(String clusterId, int n, long generation) {
    byte[] key = new byte[32];
    key[0] = (byte) n;
    key[31] = (byte) generation;
    return ClusterRecord.newBuilder()
        .setClusterId(clusterId)
        .setWireguardPublicKey(ByteString.copyFrom(key))
        .setWireguardListenPort(51820)
        .addGatewayEndpoints("198.18.0." + n + ":51820")
        .addPodCidrs("10." + n + ".0.0/16")
        .addServiceCidrs("10.200." + n + ".0/24")
        .setPeerChannelAddress("10." + n + ".0.1:7444")
        .putLabels("region", "test")
        .setAgentVersion("test")
        .setGeneration(generation)
        .build();
  }

  /**
   * The settings of a hub replica named {@code hubName} on {@code etcd} under {@code prefix},
   * connecting with {@code tls} (the cluster's client credentials, or wrong ones in a test).
   */
  public static Map<String, String> etcdSettings(io.meshwire.netlab.etcd.EtcdCluster etcd,
      io.meshwire.netlab.etcd.EtcdCluster.ClientTls tls, String hubName, String prefix) {
    Map<String, String> s = etcd.hubSettings(tls);
    s.put("etcd-prefix", prefix);
    s.put("hub-name", hubName);
    return s;
  }

  /** Copies a replica's CA or admin directory to another replica's data directory (what operators mount). */
  public static void copyTree(Path from, Path to) throws java.io.IOException {
    io.meshwire.netlab.lab.FileTrees.copy(from, to);
  }

  @Override
  public void close() {
    channels.forEach(ManagedChannel::shutdownNow);
    try {
      for (ManagedChannel ch : channels) {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (hub != null) {
        hub.close();
      }
    }
  }
}
