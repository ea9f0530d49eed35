package io.meshwire.certs;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code CertificateVerifier} decides whether a peer's certificate is a valid identity of this
 * mesh: trust is the mesh CA certificate(s) given at construction (several during a CA rotation),
 * and nothing else. meshwire CAs have pathlen 0, so only {@code chain[0]} matters; further
 * certificates a peer sends are ignored.
 *
 * <p>Checks, in this order, each with its own {@link CertificateRejectedException.Reason}: the
 * chain is not empty and {@code chain[0]} is not a CA ({@code NOT_A_LEAF}); it has exactly one
 * SPIFFE URI SAN ({@code NO_SPIFFE_ID}) in this mesh ({@code WRONG_MESH}); its issuer name and
 * authority key id match an anchor ({@code UNKNOWN_CA}) whose key verifies its signature ({@code
 * BAD_SIGNATURE}); {@code now} is within the validity of the leaf and of that anchor ({@code
 * NOT_YET_VALID}, {@code EXPIRED}); and, if a {@link RevocationList} was given, it is not revoked
 * ({@code REVOKED}).
 *
 * <p>Immutable and thread-safe; cheap enough to call on every RPC (one signature verification).
 */
public final class CertificateVerifier {

  private final List<Anchor> anchors;
  private final String mesh;
  private final RevocationList revocations;

  private record Anchor(X509Certificate certificate, byte[] keyId) {}

  /**
   * Trusts {@code trustAnchors} (mesh CA certificates) for identities in {@code mesh}.
   *
   * @throws IllegalArgumentException if there is no anchor, an anchor is not a CA certificate, or
   *     {@code mesh} is not a valid trust domain
   */
  public CertificateVerifier(List<X509Certificate> trustAnchors, String mesh) {
    this(trustAnchors, mesh, null);
  }

  /**
   * Same, and rejects certificates that {@code revocations} reports as revoked.
   *
   * @param revocations consulted on every call, so later revocations take effect; may be null
   */
  public CertificateVerifier(List<X509Certificate> trustAnchors, String mesh, RevocationList revocations) {
    Objects.requireNonNull(trustAnchors, "trustAnchors");
    if (trustAnchors.isEmpty()) {
      throw new IllegalArgumentException("trustAnchors: at least one CA certificate is required");
    }
    List<Anchor> list = new ArrayList<>();
    for (int i = 0; i < trustAnchors.size(); i++) {
      X509Certificate ca = Objects.requireNonNull(trustAnchors.get(i), "trustAnchors[" + i + "]");
      if (ca.getBasicConstraints() < 0) {
        throw new IllegalArgumentException(
            "trustAnchors[" + i + "] (" + ca.getSubjectX500Principal() + "): not a CA certificate");
      }
      list.add(new Anchor(ca, Certificates.subjectKeyId(ca)));
    }
    this.anchors = List.copyOf(list);
    this.mesh = SpiffeId.checkMesh(mesh);
    this.revocations = revocations;
  }

  /** Returns the mesh whose identities this verifier accepts. */
  public String mesh() {
    return mesh;
  }

  /** Returns the trusted CA certificates. */
  public List<X509Certificate> trustAnchors() {
    return anchors.stream().map(Anchor::certificate).toList();
  }

  /**
   * Verifies chain[0] against the anchors at {@code now}; returns its SPIFFE ID.
   *
   * @throws CertificateRejectedException with the first failed check (see the class comment)
   */
  public SpiffeId verify(List<X509Certificate> chain, Instant now) throws CertificateRejectedException {
    Objects.requireNonNull(now, "now");
    if (chain == null || chain.isEmpty()) {
      throw reject(CertificateRejectedException.Reason.NOT_A_LEAF, "no certificate presented");
    }
    X509Certificate leaf = chain.get(0);
    String subject = leaf.getSubjectX500Principal().toString();
    if (leaf.getBasicConstraints() >= 0) {
      throw reject(CertificateRejectedException.Reason.NOT_A_LEAF,
          "certificate " + subject + " is a CA certificate, not an identity");
    }
    SpiffeId id = SpiffeId.of(leaf);
    if (!mesh.equals(id.mesh())) {
      throw reject(CertificateRejectedException.Reason.WRONG_MESH,
          "certificate " + id + " belongs to mesh \"" + id.mesh() + "\", not \"" + mesh + "\"");
    }
    Anchor anchor = issuerOf(leaf, id);
    checkTime(leaf, "certificate " + id, now);
    checkTime(anchor.certificate(), "CA certificate " + anchor.certificate().getSubjectX500Principal(), now);
    if (revocations != null && revocations.isRevoked(leaf)) {
      throw reject(CertificateRejectedException.Reason.REVOKED,
          "certificate " + id + " (serial " + leaf.getSerialNumber().toString(16) + ") is revoked");
    }
    return id;
  }

  private Anchor issuerOf(X509Certificate leaf, SpiffeId id) throws CertificateRejectedException {
    Optional<byte[]> aki = Certificates.authorityKeyId(leaf);
    List<Anchor> candidates = anchors.stream()
        .filter(a -> a.certificate().getSubjectX500Principal().equals(leaf.getIssuerX500Principal()))
        .filter(a -> aki.isEmpty() || Arrays.equals(aki.get(), a.keyId()))
        .toList();
    if (candidates.isEmpty()) {
      throw reject(CertificateRejectedException.Reason.UNKNOWN_CA,
          "certificate " + id + " is issued by " + leaf.getIssuerX500Principal()
              + " (key id " + Certificates.describeKeyId(aki) + "), which is not a trusted CA of mesh \"" + mesh + "\"");
    }
    for (Anchor candidate : candidates) {
      try {
        leaf.verify(candidate.certificate().getPublicKey());
        return candidate;
      } catch (GeneralSecurityException | RuntimeException e) {
        // try the next anchor with the same name and key id (only during a botched rotation)
      }
    }
    throw reject(CertificateRejectedException.Reason.BAD_SIGNATURE,
        "certificate " + id + " names trusted CA " + leaf.getIssuerX500Principal()
            + " as issuer but its signature does not verify");
  }

  private static void checkTime(X509Certificate cert, String what, Instant now) throws CertificateRejectedException {
    Instant notBefore = cert.getNotBefore().toInstant();
    Instant notAfter = cert.getNotAfter().toInstant();
    if (now.isBefore(notBefore)) {
      throw reject(CertificateRejectedException.Reason.NOT_YET_VALID,
          what + " is not valid before " + notBefore + " (now " + now + ")");
    }
    if (now.isAfter(notAfter)) {
      throw reject(CertificateRejectedException.Reason.EXPIRED,
          what + " expired at " + notAfter + " (now " + now + ")");
    }
  }

  private static CertificateRejectedException reject(CertificateRejectedException.Reason reason, String message) {
    return new CertificateRejectedException(reason, message);
  }
}
