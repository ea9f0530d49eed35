package io.meshwire.hub;

import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.Principal;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;

/**
 * {@code InProcessIdentity} gives in-process gRPC calls a client certificate chain, for the
 * in-process test tier: {@link #as} sends the chain (DER) in a binary header, and {@link #server}
 * (installed on the in-process server builder, so it runs before the hub's per-service
 * authorization) presents it as the TLS session's peer certificates. The hub then verifies the
 * chain exactly as over TLS (CA, mesh, validity, revocation, role); what this tier skips is the
 * handshake's proof that the caller holds the private key. Test only.
 */
public final class InProcessIdentity {

  private static final Metadata.Key<byte[]> CHAIN =
      Metadata.Key.of("meshwire-test-chain-bin", Metadata.BINARY_BYTE_MARSHALLER);

  private InProcessIdentity() {}

  /** Calls through the returned interceptor present {@code chain} (leaf first). */
  public static ClientInterceptor as(List<X509Certificate> chain) {
    ByteArrayOutputStream der = new ByteArrayOutputStream();
    try {
      for (X509Certificate c : chain) {
        der.writeBytes(c.getEncoded());
      }
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException(e);
    }
    byte[] encoded = der.toByteArray();
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            headers.put(CHAIN, encoded);
            super.start(listener, headers);
          }
        };
      }
    };
  }

  /** The server side: a call carrying a chain sees it as its TLS session's peer certificates. */
  public static ServerInterceptor server() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        byte[] der = headers.get(CHAIN);
        if (der == null) {
          return next.startCall(call, headers);
        }
        Attributes attributes = call.getAttributes().toBuilder()
            .set(Grpc.TRANSPORT_ATTR_SSL_SESSION, new PeerSession(decode(der))).build();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public Attributes getAttributes() {
            return attributes;
          }
        }, headers);
      }
    };
  }

  private static Certificate[] decode(byte[] der) {
    try {
      return CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(der))
          .toArray(Certificate[]::new);
    } catch (CertificateException e) {
      throw new IllegalArgumentException("undecodable test chain", e);
    }
  }

  /** An SSL session that only knows its peer's certificates (all the hub's authorization reads). */
  private record PeerSession(Certificate[] peer) implements SSLSession {
    @Override
    public Certificate[] getPeerCertificates() {
      return peer.clone();
    }

    @Override
    public byte[] getId() {
      return new byte[0];
    }

    @Override
    public SSLSessionContext getSessionContext() {
      return null;
    }

    @Override
    public long getCreationTime() {
      return 0;
    }

    @Override
    public long getLastAccessedTime() {
      return 0;
    }

    @Override
    public void invalidate() {}

    @Override
    public boolean isValid() {
      return true;
    }

    @Override
    public void putValue(String name, Object value) {}

    @Override
    public Object getValue(String name) {
      return null;
    }

    @Override
    public void removeValue(String name) {}

    @Override
    public String[] getValueNames() {
      return new String[0];
    }

    @Override
    public Certificate[] getLocalCertificates() {
      return null;
    }

    @Override
    public Principal getPeerPrincipal() {
      return ((X509Certificate) peer[0]).getSubjectX500Principal();
    }

    @Override
    public Principal getLocalPrincipal() {
      return null;
    }

    @Override
    public String getCipherSuite() {
      return "TLS_AES_128_GCM_SHA256";
    }

    @Override
    public String getProtocol() {
      return "TLSv1.3";
    }

    @Override
    public String getPeerHost() {
      return null;
    }

    @Override
    public int getPeerPort() {
      return -1;
    }

    @Override
    public int getPacketBufferSize() {
      return 0;
    }

    @Override
    public int getApplicationBufferSize() {
      return 0;
    }
  }
}
