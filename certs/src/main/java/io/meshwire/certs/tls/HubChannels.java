package io.meshwire.certs.tls;

import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.netaddr.HostPort;
import io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * {@code HubChannels} opens gRPC channels to a hub: TLS 1.3, the hub authenticated by its SPIFFE
 * ID (role hub, the mesh of {@code caCert}) instead of a host name, and the caller's certificate
 * when it has one. The one place clients (agent, CLI, load generator) build hub connections; it
 * lives next to the trust manager so that a client needs this module, not the agent.
 */
public final class HubChannels {

  /** How long a client keeps a hub's session for resumption: TLS 1.3's maximum ticket lifetime. */
  public static final Duration SESSION_LIFETIME = Duration.ofDays(7);

  private HubChannels() {}

  /** A channel presenting {@code credentials} and trusting their CA. */
  public static ManagedChannel open(HostPort hub, TlsCredentials credentials, InstantSource clock) {
    return open(hub, credentials, credentials.trustAnchors().get(0), clock);
  }

  /**
   * A channel trusting {@code caCert}; {@code credentials} may be null (no client certificate,
   * only for enrollment).
   */
  public static ManagedChannel open(HostPort hub, TlsCredentials credentials, X509Certificate caCert,
      InstantSource clock) {
    return open(hub, tls(credentials, caCert, clock));
  }

  /**
   * A channel over {@code tls} (from {@link #tls}). A client that reconnects should open its next
   * channel over the same context: the context keeps the hub's TLS session tickets, so the next
   * connection resumes the session (no certificate signature or chain verification on either side)
   * instead of a full handshake.
   */
  public static ManagedChannel open(HostPort hub, SslContext tls) {
    return NettyChannelBuilder.forAddress(hub.host(), hub.port())
        .sslContext(tls)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(true)
        .maxInboundMessageSize(16 * 1024 * 1024)
        .build();
  }

  /**
   * The client TLS context for hub channels: TLS 1.3, the hub authenticated by its SPIFFE ID, the
   * caller's certificate when {@code credentials} is not null, and resumable sessions kept as long
   * as a hub's ticket lives ({@link #SESSION_LIFETIME}).
   */
  public static SslContext tls(TlsCredentials credentials, X509Certificate caCert, InstantSource clock) {
    String mesh = MeshCa.meshOf(caCert);
    try {
      var tls = GrpcSslContexts.forClient()
          .protocols("TLSv1.3")
          .sessionTimeout(SESSION_LIFETIME.toSeconds())
          .trustManager(new SpiffeTrustManager(List.of(caCert), mesh, clock, id -> id.role() == Role.HUB,
              "a hub certificate of mesh " + mesh));
      if (credentials != null) {
        tls.keyManager(credentials.privateKey(), credentials.chain().toArray(X509Certificate[]::new));
      }
      return tls.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build TLS for a hub of mesh " + mesh + ": " + e.getMessage(), e);
    }
  }
}
