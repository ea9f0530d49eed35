package io.meshwire.agent.peer;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.meshwire.certs.CertificateRejectedException;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PeerAuthInterceptor} lets a call through only from a current peer: TLS has already
 * verified the client certificate against the mesh CA and required the cluster role; here its
 * cluster name must be one {@code isPeer} accepts now (a removed or revoked cluster is refused on
 * its next call, without waiting for its certificate to expire). Thread-safe.
 */
final class PeerAuthInterceptor implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger(PeerAuthInterceptor.class);

  /** The calling cluster's name, for services behind this interceptor. */
  public static final Context.Key<String> CALLER = Context.key("meshwire.peer.caller");

  private final Predicate<String> isPeer;
  private final MeterRegistry meters;

  public PeerAuthInterceptor(Predicate<String> isPeer, MeterRegistry meters) {
    this.isPeer = isPeer;
    this.meters = meters;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    SpiffeId id;
    try {
      if (session == null || session.getPeerCertificates().length == 0
          || !(session.getPeerCertificates()[0] instanceof X509Certificate leaf)) {
        return refuse(call, Status.UNAUTHENTICATED, "no_certificate", "a cluster certificate is required");
      }
      id = SpiffeId.of(leaf);
    } catch (SSLPeerUnverifiedException | CertificateRejectedException e) {
      return refuse(call, Status.UNAUTHENTICATED, "certificate", e.getMessage());
    }
    if (id.role() != Role.CLUSTER || !isPeer.test(id.name())) {
      return refuse(call, Status.PERMISSION_DENIED, "not_a_peer", id.uri() + " is not a current peer of this cluster");
    }
    return Contexts.interceptCall(Context.current().withValue(CALLER, id.name()), call, headers, next);
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status, String reason, String message) {
    Counter.builder("meshwire.agent.peer.auth.failures").tag("reason", reason).register(meters).increment();
    log.info("peer call refused method={} remote={} reason={} detail=\"{}\"", call.getMethodDescriptor().getFullMethodName(),
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), reason, message);
    call.close(status.withDescription(message), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
