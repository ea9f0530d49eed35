package io.meshwire.relay;

import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.SpiffeTrustManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.relay.wire.RelayFrames;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.time.InstantSource;
import javax.net.ssl.SSLException;

/**
 * {@code RelayTls} builds both ends' TLS: TLS 1.3, ALPN {@value RelayFrames#ALPN}, certificates of
 * one mesh on both sides. The relay requires a cluster certificate (the cluster ID it forwards
 * for is the certificate's, never a frame's); a client accepts a relay presenting a hub-role
 * certificate (an embedded relay uses its hub's; a standalone one gets its own from
 * {@code meshwire ca issue --role hub}). Keys come from a {@link RenewableKeyManager}, consulted
 * per handshake, so a renewal needs no new context. Stateless.
 */
public final class RelayTls {

  private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
      ApplicationProtocolConfig.Protocol.ALPN,
      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
      RelayFrames.ALPN);

  private RelayTls() {}

  private static SslProvider provider() {
    return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  /** The relay's context: clients must present a cluster certificate of the relay's mesh. */
  public static SslContext server(RenewableKeyManager keys, InstantSource clock) {
    TlsCredentials credentials = keys.current();
    String mesh = MeshCa.meshOf(credentials.trustAnchors().get(0));
    try {
      return SslContextBuilder.forServer(keys)
          .sslProvider(provider())
          .protocols("TLSv1.3")
          .applicationProtocolConfig(ALPN)
          .clientAuth(ClientAuth.REQUIRE)
          .trustManager(new SpiffeTrustManager(credentials.trustAnchors(), mesh, clock,
              id -> id.role() == Role.CLUSTER, "a cluster certificate of mesh " + mesh))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("relay: cannot build server TLS: " + e.getMessage(), e);
    }
  }

  /** A cluster's context for connecting to relays of its mesh. */
  public static SslContext client(RenewableKeyManager keys, InstantSource clock) {
    TlsCredentials credentials = keys.current();
    String mesh = MeshCa.meshOf(credentials.trustAnchors().get(0));
    try {
      return SslContextBuilder.forClient()
          .sslProvider(provider())
          .protocols("TLSv1.3")
          .applicationProtocolConfig(ALPN)
          .keyManager(keys)
          .trustManager(new SpiffeTrustManager(credentials.trustAnchors(), mesh, clock,
              id -> id.role() == Role.HUB, "a relay (hub role) certificate of mesh " + mesh))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("relay client: cannot build TLS: " + e.getMessage(), e);
    }
  }
}
