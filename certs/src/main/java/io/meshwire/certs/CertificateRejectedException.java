package io.meshwire.certs;

import java.util.Objects;

/**
 * {@code CertificateRejectedException} says why a peer's certificate is not accepted; {@link
 * #reason()} is for code (metrics, status mapping), the message is one line for humans.
 */
public final class CertificateRejectedException extends Exception {

  /** Why a certificate was rejected. */
  public enum Reason {
    /** The certificate (or the CA that signed it) is past its notAfter. */
    EXPIRED,
    /** The certificate's notBefore is in the future. */
    NOT_YET_VALID,
    /** Not issued by any trusted mesh CA. */
    UNKNOWN_CA,
    /** Claims a trusted issuer but its signature does not verify (tampered or forged). */
    BAD_SIGNATURE,
    /** No single, well-formed SPIFFE URI SAN. */
    NO_SPIFFE_ID,
    /** The SPIFFE ID belongs to a different mesh (trust domain). */
    WRONG_MESH,
    /** A CA certificate was presented where an end-entity certificate is required. */
    NOT_A_LEAF,
    /** The identity or certificate has been revoked. */
    REVOKED
  }

  private final Reason reason;

  /** Creates a rejection with a one-line, human-readable {@code message}. */
  public CertificateRejectedException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Returns why the certificate was rejected. */
  public Reason reason() {
    return reason;
  }
}
