package io.meshwire.hub.auth;

import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.meshwire.certs.CertificateRejectedException;
import io.meshwire.certs.CertificateVerifier;
import io.meshwire.certs.Revocations;
import io.meshwire.certs.SpiffeId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.meshwire.hub.wire.Statuses;
import io.meshwire.netaddr.Quote;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code AuthInterceptor} establishes the {@link Caller} of every call from the TLS client
 * certificate and enforces the {@link AccessPolicy}.
 *
 * <p>TLS accepts any client certificate during the handshake (it still proves possession of the
 * key); verification happens here, on every call, so a bad certificate gets a clear status
 * (UNAUTHENTICATED: expired, unknown CA, revoked...) instead of a failed handshake, and a
 * revocation takes effect on the very next call without new connections. Thread-safe.
 */
public final class AuthInterceptor implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);

  private final CertificateVerifier verifier;
  private final Revocations revocations;
  private final AccessPolicy policy;
  private final InstantSource clock;
  private final MeterRegistry meters;
  private final Consumer<SpiffeId> onAuthenticated;
  private final RateLimits limits;
  private final Refusals refusals;

  /** Told of every call refused here (for the audit log); must be cheap. */
  @FunctionalInterface
  public interface Refusals {
    void refused(String remote, String method, String reason, String detail);
  }

  /**
   * @param onAuthenticated told of every authenticated call (presence tracking); must be cheap
   * @param limits every call without a client certificate (Enroll, health checks, and calls that
   *     are then refused) takes a permit of the enrollment rate, per source address
   */
  public AuthInterceptor(CertificateVerifier verifier, Revocations revocations, AccessPolicy policy,
      InstantSource clock, MeterRegistry meters, Consumer<SpiffeId> onAuthenticated, RateLimits limits,
      Refusals refusals) {
    this.verifier = verifier;
    this.revocations = revocations;
    this.policy = policy;
    this.clock = clock;
    this.meters = meters;
    this.onAuthenticated = onAuthenticated;
    this.limits = limits;
    this.refusals = refusals;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    List<X509Certificate> chain = session == null ? List.of() : peerChain(session);
    if (chain.isEmpty()) {
      String source = remote instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : String.valueOf(remote);
      Optional<java.time.Duration> retry = limits.enroll(source);
      if (retry.isPresent()) {
        Counter.builder("meshwire.hub.auth.failures").tag("reason", "rate_limited").register(meters).increment();
        String what = method.substring(method.indexOf('/') + 1);
        io.grpc.StatusRuntimeException limited = Statuses.rateLimited(what, retry.get());
        call.close(limited.getStatus(), limited.getTrailers() == null ? new Metadata() : limited.getTrailers());
        return new ServerCall.Listener<>() {};
      }
    }

    Optional<SpiffeId> id = Optional.empty();
    if (!chain.isEmpty()) {
      try {
        SpiffeId verified = verifier.verify(chain, clock.instant());
        if (revocations.isRevoked(chain.get(0))) {
          return refuse(call, Status.UNAUTHENTICATED, "revoked", "certificate of " + verified.uri() + " is revoked",
              method, remote);
        }
        id = Optional.of(verified);
      } catch (CertificateRejectedException e) {
        return refuse(call, Status.UNAUTHENTICATED, e.reason().name().toLowerCase(),
            "client certificate rejected (" + e.reason() + "): " + e.getMessage(), method, remote);
      }
    }
    String role = id.map(i -> i.role().pathSegment()).orElse(AccessPolicy.ANONYMOUS);
    if (!policy.allows(method, role)) {
      if (id.isEmpty()) {
        return refuse(call, Status.UNAUTHENTICATED, "no_certificate",
            method + " requires a client certificate", method, remote);
      }
      return refuse(call, Status.PERMISSION_DENIED, "role",
          id.get().uri() + " (role " + role + ") may not call " + method, method, remote);
    }
    id.ifPresent(onAuthenticated);
    Caller caller = new Caller(id, remote);
    return Contexts.interceptCall(io.grpc.Context.current().withValue(Caller.KEY, caller), call, headers, next);
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status, String reason,
      String message, String method, SocketAddress remote) {
    Counter.builder("meshwire.hub.auth.failures").tag("reason", reason).register(meters).increment();
    log.info("call refused method={} remote={} reason={} detail={}", method, remote, reason, Quote.of(message));
    refusals.refused(String.valueOf(remote), method, reason, message);
    call.close(status.withDescription(message), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private static List<X509Certificate> peerChain(SSLSession session) {
    try {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : session.getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          out.add(x);
        }
      }
      return out;
    } catch (SSLPeerUnverifiedException e) {
      return List.of(); // no client certificate: anonymous
    }
  }
}
