package io.meshwire.certs;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * {@code Revocations}: the revoked identities the hub checks on every call. {@link RevocationList}
 * keeps them in a file for one hub; the hub's etcd store keeps them in etcd and mirrors them on
 * every replica. Implementations are thread-safe and answer {@link #isRevoked} without I/O.
 */
public interface Revocations {

  /** See {@link RevocationList#revoke}. */
  void revoke(SpiffeId id, Instant at, String reason);

  /** See {@link RevocationList#isRevoked(X509Certificate)}. */
  boolean isRevoked(X509Certificate cert);

  /**
   * Whether the certificate of {@code id} valid from {@code notBefore} is revoked (the rule of
   * {@link RevocationList#revokedBy}), for callers that keep the identity instead of the certificate.
   */
  boolean isRevoked(SpiffeId id, Instant notBefore);

  /** Whether any revocation is recorded for {@code id}. */
  boolean isRevoked(SpiffeId id);

  /** All entries, sorted by SPIFFE ID. */
  List<RevocationList.Entry> entries();
}
