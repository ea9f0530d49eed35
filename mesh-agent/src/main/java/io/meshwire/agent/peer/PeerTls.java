package io.meshwire.agent.peer;

import io.grpc.netty.GrpcSslContexts;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.SpiffeTrustManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.time.InstantSource;
import javax.net.ssl.SSLException;

/**
 * {@code PeerTls} builds the TLS of the peer channel: TLS 1.3, cluster certificates of one mesh on
 * both sides. The server requires a client certificate with the cluster role (which cluster is
 * checked per call by {@link PeerAuthInterceptor}); the client accepts only
 * {@code spiffe://<mesh>/cluster/<expected peer>}, so a peer's address cannot be taken over by
 * another member.
 *
 * <p>The key and certificate come from a {@link RenewableKeyManager}, consulted per handshake, so a
 * renewed certificate needs no new context.
 */
final class PeerTls {

  private PeerTls() {}

  /**
   * A server context presenting whatever {@code keys} holds at each handshake (a renewal reaches new
   * connections only); it trusts the mesh CA {@code keys} holds now.
   */
  public static SslContext server(RenewableKeyManager keys, InstantSource clock) {
    TlsCredentials credentials = keys.current();
    String mesh = MeshCa.meshOf(credentials.trustAnchors().get(0));
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forServer(keys))
          .protocols("TLSv1.3")
          .clientAuth(ClientAuth.REQUIRE)
          .trustManager(new SpiffeTrustManager(credentials.trustAnchors(), mesh, clock,
              id -> id.role() == Role.CLUSTER, "a cluster certificate of mesh " + mesh))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("peer channel: cannot build server TLS: " + e.getMessage(), e);
    }
  }

  /**
   * A client context presenting whatever {@code keys} holds at each handshake, so a channel's
   * reconnects after a renewal use the new certificate.
   */
  public static SslContext client(RenewableKeyManager keys, String expectedPeer, InstantSource clock) {
    TlsCredentials credentials = keys.current();
    String mesh = MeshCa.meshOf(credentials.trustAnchors().get(0));
    SpiffeId expected = new SpiffeId(mesh, Role.CLUSTER, expectedPeer);
    try {
      return GrpcSslContexts.forClient()
          .protocols("TLSv1.3")
          .keyManager(keys)
          .trustManager(new SpiffeTrustManager(credentials.trustAnchors(), mesh, clock, expected::equals,
              expected.uri()))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("peer channel: cannot build client TLS for " + expectedPeer + ": " + e.getMessage(), e);
    }
  }
}
