package io.meshwire.certs;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/**
 * {@code Certificates} holds small X.509 helpers shared by the CA, the verifier and the CLI:
 * fingerprints, random serials and key identifiers. Stateless and thread-safe.
 */
public final class Certificates {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Certificates() {}

  /** Returns the SHA-256 fingerprint of the DER certificate as upper-case hex pairs joined by ':' (as {@code openssl x509 -fingerprint -sha256} prints it). */
  public static String sha256Fingerprint(X509Certificate cert) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint " + cert.getSubjectX500Principal(), e);
    }
  }

  /** Returns a random, positive, non-zero serial number of at most 128 bits. */
  static BigInteger randomSerial() {
    BigInteger serial;
    do {
      serial = new BigInteger(128, RANDOM);
    } while (serial.signum() == 0);
    return serial;
  }

  /** Returns the certificate's subjectKeyIdentifier, or the RFC 5280 method-1 value computed from its key. */
  static byte[] subjectKeyId(X509Certificate cert) {
    return extensionOctets(cert, Extension.subjectKeyIdentifier)
        .map(v -> SubjectKeyIdentifier.getInstance(v).getKeyIdentifier())
        .orElseGet(() -> computeKeyId(cert.getPublicKey()));
  }

  /** Returns the keyIdentifier of the certificate's authorityKeyIdentifier, if present. */
  static Optional<byte[]> authorityKeyId(X509Certificate cert) {
    return extensionOctets(cert, Extension.authorityKeyIdentifier)
        .map(v -> AuthorityKeyIdentifier.getInstance(v).getKeyIdentifierObject())
        .map(ASN1OctetString::getOctets);
  }

  static byte[] computeKeyId(PublicKey key) {
    try {
      return new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key).getKeyIdentifier();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required for key identifiers", e);
    }
  }

  private static Optional<byte[]> extensionOctets(X509Certificate cert, org.bouncycastle.asn1.ASN1ObjectIdentifier oid) {
    byte[] wrapped = cert.getExtensionValue(oid.getId());
    if (wrapped == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(ASN1OctetString.getInstance(wrapped).getOctets());
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  static String describeKeyId(Optional<byte[]> id) {
    return id.map(Certificates::hex).orElse("none");
  }
}
