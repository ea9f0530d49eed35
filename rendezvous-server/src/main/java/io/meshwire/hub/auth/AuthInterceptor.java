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
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
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
 * key); verification happens here, so a bad certificate gets a clear status (UNAUTHENTICATED:
 * expired, unknown CA, revoked...) instead of a failed handshake. The chain is verified on a
 * connection's first call and kept with its TLS session (again after a minute, never past the leaf's
 * expiry); revocation is checked on every call, so it takes effect on the very next call without
 * new connections. Thread-safe.
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
    Instant now = clock.instant();
    Verified known = session != null && session.getValue(VERIFIED) instanceof Verified v && now.isBefore(v.until())
        ? v : null;
    List<X509Certificate> chain = known != null || session == null ? List.of() : peerChain(session);
    if (known == null && chain.isEmpty()) {
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
    if (known != null) {
      if (revocations.isRevoked(known.id(), known.notBefore())) {
        return refuse(call, Status.UNAUTHENTICATED, "revoked", "certificate of " + known.id().uri() + " is revoked",
            method, remote);
      }
      id = Optional.of(known.id());
    } else if (!chain.isEmpty()) {
      try {
        SpiffeId verified = verify(session, chain, now);
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

  /**
   * Verifies the chain of a connection's first call and keeps the result in its TLS session (its
   * application values) for the connection's later calls, until the leaf expires or
   * {@link #REVERIFY_AFTER} passed (which bounds how late an expired CA is noticed); a TLS session's
   * peer chain never changes. Revocation is still checked on every call by the caller. Verifying an
   * ECDSA signature in Java on every call was a quarter of the hub's CPU during joins, when agents
   * call several times on one connection (Announce, Watch, Watch again after a snapshot refusal).
   */
  private SpiffeId verify(SSLSession session, List<X509Certificate> chain, Instant now)
      throws CertificateRejectedException {
    SpiffeId id = verifier.verify(chain, now);
    X509Certificate leaf = chain.get(0);
    Instant until = now.plus(REVERIFY_AFTER);
    Instant leafExpiry = leaf.getNotAfter().toInstant();
    session.putValue(VERIFIED, new Verified(id, leaf.getNotBefore().toInstant(),
        until.isBefore(leafExpiry) ? until : leafExpiry));
    return id;
  }

  /** How long a session's verified identity is reused before the chain is verified again. */
  static final java.time.Duration REVERIFY_AFTER = java.time.Duration.ofMinutes(1);
  private static final String VERIFIED = "meshwire.verified-identity";

  /** What a connection's later calls need of its verified leaf: the identity, and its validity for revocations. */
  private record Verified(SpiffeId id, Instant notBefore, Instant until) {}

  /**
   * The peer's chain, parsed here from its DER bytes. The session's own certificate objects are left
   * unparsed: netty-tcnative parses them on first use and keeps the result for the connection's life
   * (about 1.5 KB per idle agent: the JDK's X509CertImpl, its ObjectIdentifiers and X500Names).
   */
  private static List<X509Certificate> peerChain(SSLSession session) {
    try {
      return parseChain(session.getPeerCertificates());
    } catch (SSLPeerUnverifiedException e) {
      return List.of(); // no client certificate: anonymous
    } catch (CertificateException e) {
      return List.of(); // TLS accepted bytes that do not parse: treated as no certificate, refused by the policy
    }
  }

  /**
   * Parses {@code peer}'s X.509 certificates again from their encoded bytes, into objects that are
   * garbage once the chain is verified. {@code generateCertificate} (singular) would put each one in
   * the JDK's certificate cache (750 soft references): 1.1 MB of parsed certificates held after a
   * full GC once 750 agents connected. {@code generateCertificates} over the concatenated bytes
   * caches nothing.
   */
  static List<X509Certificate> parseChain(Certificate[] peer) throws CertificateException {
    ByteArrayOutputStream der = new ByteArrayOutputStream();
    for (Certificate c : peer) {
      if (c instanceof X509Certificate) {
        der.writeBytes(c.getEncoded());
      }
    }
    if (der.size() == 0) {
      return List.of();
    }
    List<X509Certificate> out = new ArrayList<>(peer.length);
    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(
        new ByteArrayInputStream(der.toByteArray()))) {
      out.add((X509Certificate) c);
    }
    return out;
  }
}
