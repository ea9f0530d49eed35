package io.meshwire.agent.peer;

import io.grpc.netty.GrpcSslContexts;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.SpiffeTrustManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import javax.net.ssl.SSLException;

/**
 * {@code PeerTls} builds the TLS of the peer channel: TLS 1.3, cluster certificates of one mesh on
 * both sides. The server requires a client certificate with the cluster role (which cluster is
 * checked per call by {@link PeerAuthInterceptor}); the client accepts only
 * {@code spiffe://<mesh>/cluster/<expected peer>}, so a peer's address cannot be taken over by
 * another member.
 */
public final class PeerTls {

  private PeerTls() {}

  public static SslContext server(TlsCredentials credentials, InstantSource clock) {
    String mesh = MeshCa.meshOf(credentials.trustAnchors().get(0));
    try {
      return GrpcSslContexts.configure(
              SslContextBuilder.forServer(credentials.privateKey(), credentials.chain().toArray(X509Certificate[]::new)))
          .protocols("TLSv1.3")
          .clientAuth(ClientAuth.REQUIRE)
          .trustManager(new SpiffeTrustManager(credentials.trustAnchors(), mesh, clock,
              id -> id.role() == Role.CLUSTER, "a cluster certificate of mesh " + mesh))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("peer channel: cannot build server TLS: " + e.getMessage(), e);
    }
  }

  public static SslContext client(TlsCredentials credentials, String expectedPeer, InstantSource clock) {
    String mesh = MeshCa.meshOf(credentials.trustAnchors().get(0));
    SpiffeId expected = new SpiffeId(mesh, Role.CLUSTER, expectedPeer);
    try {
      return GrpcSslContexts.forClient()
          .protocols("TLSv1.3")
          .keyManager(credentials.privateKey(), credentials.chain().toArray(X509Certificate[]::new))
          .trustManager(new SpiffeTrustManager(credentials.trustAnchors(), mesh, clock, expected::equals,
              expected.uri()))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("peer channel: cannot build client TLS for " + expectedPeer + ": " + e.getMessage(), e);
    }
  }
}
