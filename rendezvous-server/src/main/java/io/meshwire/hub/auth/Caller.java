package io.meshwire.hub.auth;

import io.grpc.Context;
import io.meshwire.certs.SpiffeId;
import java.net.SocketAddress;
import java.util.Optional;

/**
 * {@code Caller} is who is calling, as the {@link AuthInterceptor} established it from the TLS
 * client certificate: a verified SPIFFE ID, or anonymous (only allowed for enrollment). Services
 * read it from {@link #current()}; never from a request field.
 */
public record Caller(Optional<SpiffeId> id, SocketAddress remote) {

  static final Context.Key<Caller> KEY = Context.key("meshwire-caller");

  /** The caller of the RPC running on this thread. */
  public static Caller current() {
    Caller c = KEY.get();
    if (c == null) {
      throw new IllegalStateException("no caller in context: AuthInterceptor is not installed");
    }
    return c;
  }

  /** The verified ID; only call after the access policy required one. */
  public SpiffeId requireId() {
    return id.orElseThrow(() -> new IllegalStateException("anonymous caller"));
  }

  /** A short name for logs and rate limits: the SPIFFE ID, or the remote address. */
  public String label() {
    return id.map(SpiffeId::uri).orElse("anonymous@" + remote);
  }
}
