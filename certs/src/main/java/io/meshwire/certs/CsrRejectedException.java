package io.meshwire.certs;

import java.util.Objects;

/**
 * {@code CsrRejectedException} says why {@link MeshCa#sign} refused a certificate signing request;
 * {@link #reason()} is for code, the message is one line for humans (never contains key material).
 */
public final class CsrRejectedException extends Exception {

  /** Why a CSR was rejected. */
  public enum Reason {
    /** Not a DER-encoded PKCS#10 request. */
    MALFORMED,
    /** The request's signature does not verify with its own public key (no proof of possession). */
    BAD_SIGNATURE,
    /** The requested CN or SAN names someone other than the expected identity. */
    IDENTITY_MISMATCH,
    /** The request asks for a CA certificate (basicConstraints CA:true or CA key usages). */
    CA_REQUESTED,
    /** The key is not EC P-256. */
    KEY_TYPE_NOT_ALLOWED,
    /** The requested validity exceeds {@link MeshCa#MAX_LEAF_VALIDITY}. */
    VALIDITY_TOO_LONG
  }

  private final Reason reason;

  /** Creates a rejection with a one-line, human-readable {@code message}. */
  public CsrRejectedException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Returns why the CSR was rejected. */
  public Reason reason() {
    return reason;
  }
}
