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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PeerAuthInterceptor} lets a call through only from a current peer: TLS has already
 * verified the client certificate against the mesh CA and required the cluster role; here its
 * cluster name must be one {@code isPeer} accepts now (a removed or revoked cluster is refused on
 * its next call, without waiting for its certificate to expire). Every refusal is counted
 * ({@code meshwire_agent_peer_auth_failures_total} by reason); it is logged at INFO once per
 * refused cluster (once per reason for callers without a usable certificate) until that caller is
 * let through again, then at DEBUG, so a removed peer that keeps dialling does not flood the log.
 * Thread-safe.
 */
final class PeerAuthInterceptor implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger(PeerAuthInterceptor.class);

  /** The calling cluster's name, for services behind this interceptor. */
  public static final Context.Key<String> CALLER = Context.key("meshwire.peer.caller");

  /** Bounds the set of callers already logged (a flood of distinct names must not grow it without end). */
  private static final int MAX_LOGGED = 1024;

  private final Predicate<String> isPeer;
  private final MeterRegistry meters;
  // Who was refused and logged already: "reason" or "not_a_peer/<cluster>".
  private final Set<String> logged = ConcurrentHashMap.newKeySet();

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
        return refuse(call, Status.UNAUTHENTICATED, "no_certificate", "no_certificate",
            "a cluster certificate is required");
      }
      id = SpiffeId.of(leaf);
    } catch (SSLPeerUnverifiedException | CertificateRejectedException e) {
      return refuse(call, Status.UNAUTHENTICATED, "certificate", "certificate", e.getMessage());
    }
    String caller = "not_a_peer/" + id.uri();
    if (id.role() != Role.CLUSTER || !isPeer.test(id.name())) {
      return refuse(call, Status.PERMISSION_DENIED, "not_a_peer", caller,
          id.uri() + " is not a current peer of this cluster");
    }
    logged.remove(caller); // refused again later (left the peer set once more): logged again
    return Contexts.interceptCall(Context.current().withValue(CALLER, id.name()), call, headers, next);
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status, String reason, String caller,
      String message) {
    Counter.builder("meshwire.agent.peer.auth.failures").tag("reason", reason).register(meters).increment();
    if (logged.size() >= MAX_LOGGED) {
      logged.clear();
    }
    boolean first = logged.add(caller);
    if (first || log.isDebugEnabled()) {
      String line = "peer call refused method={} remote={} reason={} detail=\"{}\"";
      Object[] args = {call.getMethodDescriptor().getFullMethodName(),
          call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), reason, message};
      if (first) {
        log.info(line + "; further refusals of this caller are counted, not logged", args);
      } else {
        log.debug(line, args);
      }
    }
    call.close(status.withDescription(message), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
