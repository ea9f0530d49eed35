package io.meshwire.hub.api;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.meshwire.certs.CsrRejectedException;
import io.meshwire.certs.TokenStore;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.TokenInfo;
import io.meshwire.certs.TokenRejectedException;
import io.meshwire.hub.auth.Caller;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollResponse;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.enrollment.v1.IssuedCertificate;
import io.meshwire.proto.enrollment.v1.RenewRequest;
import io.meshwire.proto.enrollment.v1.RenewResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EnrollmentService} turns a join token and a CSR into a cluster certificate. The order
 * matters: the token is checked, then the CSR is signed in memory, and only then is the token
 * spent, so a bad CSR does not burn a good token and a rejected call writes nothing.
 */
final class EnrollmentService extends EnrollmentGrpc.EnrollmentImplBase {

  private static final Logger log = LoggerFactory.getLogger(EnrollmentService.class);
  static final int MAX_TOKEN_CHARS = 128;
  static final int MAX_CSR_BYTES = 8 * 1024;

  private final MeshCa ca;
  private final TokenStore tokens;
  private final Duration validity;
  private final AuditLog audit;
  private final MeterRegistry meters;

  EnrollmentService(MeshCa ca, TokenStore tokens, Duration validity, AuditLog audit, MeterRegistry meters) {
    this.ca = ca;
    this.tokens = tokens;
    this.validity = validity;
    this.audit = audit;
    this.meters = meters;
  }

  @Override
  public void enroll(EnrollRequest request, StreamObserver<EnrollResponse> response) {
    Caller caller = Caller.current();
    String source = caller.remote() instanceof InetSocketAddress a ? a.getAddress().getHostAddress()
        : String.valueOf(caller.remote());
    // Rate limited in AuthInterceptor, like every call without a client certificate.
    if (request.getJoinToken().length() > MAX_TOKEN_CHARS) {
      response.onError(invalid("join_token: longer than " + MAX_TOKEN_CHARS + " characters"));
      return;
    }
    if (request.getCsrDer().size() > MAX_CSR_BYTES) {
      response.onError(invalid("csr_der: " + request.getCsrDer().size() + " bytes, at most " + MAX_CSR_BYTES));
      return;
    }
    TokenInfo token;
    try {
      token = tokens.check(request.getJoinToken());
    } catch (TokenRejectedException e) {
      response.onError(tokenRejected(e, source));
      return;
    }
    SpiffeId id = new SpiffeId(ca.mesh(), Role.CLUSTER, token.clusterId());
    X509Certificate cert;
    try {
      cert = ca.sign(request.getCsrDer().toByteArray(), id, validity);
    } catch (CsrRejectedException e) {
      Counter.builder("meshwire.hub.enroll.rejected").tag("reason", e.reason().name().toLowerCase())
          .register(meters).increment();
      log.info("enroll rejected cluster={} reason={} detail=\"{}\"", token.clusterId(), e.reason(), e.getMessage());
      response.onError(invalid("csr_der: " + e.getMessage()));
      return;
    }
    try {
      tokens.redeem(request.getJoinToken(), token.clusterId());
    } catch (TokenRejectedException e) {
      response.onError(tokenRejected(e, source)); // lost a race with another use of the same token
      return;
    }
    audit.record(caller.label(), "cluster.enrolled", token.clusterId(), "token " + token.tokenId()
        + ", serial " + cert.getSerialNumber().toString(16));
    response.onNext(EnrollResponse.newBuilder().setCertificate(issued(cert, id)).build());
    response.onCompleted();
  }

  @Override
  public void renew(RenewRequest request, StreamObserver<RenewResponse> response) {
    SpiffeId caller = Caller.current().requireId();
    if (request.getCsrDer().size() > MAX_CSR_BYTES) {
      response.onError(invalid("csr_der: " + request.getCsrDer().size() + " bytes, at most " + MAX_CSR_BYTES));
      return;
    }
    try {
      X509Certificate cert = ca.sign(request.getCsrDer().toByteArray(), caller, validity);
      audit.record(caller.uri(), "cluster.renewed", caller.name(), "serial " + cert.getSerialNumber().toString(16));
      response.onNext(RenewResponse.newBuilder().setCertificate(issued(cert, caller)).build());
      response.onCompleted();
    } catch (CsrRejectedException e) {
      response.onError(invalid("csr_der: " + e.getMessage()));
    }
  }

  private IssuedCertificate issued(X509Certificate cert, SpiffeId id) {
    try {
      return IssuedCertificate.newBuilder()
          .addCertificateChainDer(ByteString.copyFrom(cert.getEncoded()))
          .addCaBundleDer(ByteString.copyFrom(ca.certificate().getEncoded()))
          .setSpiffeId(id.uri())
          .setNotBefore(ProtoMapper.timestamp(cert.getNotBefore().toInstant()))
          .setNotAfter(ProtoMapper.timestamp(cert.getNotAfter().toInstant()))
          .build();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode a certificate the CA just signed", e);
    }
  }

  private io.grpc.StatusRuntimeException tokenRejected(TokenRejectedException e, String source) {
    Counter.builder("meshwire.hub.auth.failures").tag("reason", "token_" + e.reason().name().toLowerCase())
        .register(meters).increment();
    log.info("enroll refused source={} token_reason={}", source, e.reason());
    audit.record(source, "call.refused", "meshwire.enrollment.v1.Enrollment/Enroll", "join token rejected ("
        + e.reason().name().toLowerCase() + ")");
    // One message for every reason: the answer must not help guess tokens.
    return Status.UNAUTHENTICATED.withDescription("join_token: rejected (unknown, expired, used or revoked)")
        .asRuntimeException();
  }

  private static io.grpc.StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
