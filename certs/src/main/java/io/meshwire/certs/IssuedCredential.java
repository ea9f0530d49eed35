package io.meshwire.certs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code IssuedCredential} is a private key, its leaf certificate and the CA certificate that
 * signed it: what {@link MeshCa#issue} returns and what a workload needs for mutual TLS.
 * {@link #toString()} never shows the key.
 */
public record IssuedCredential(PrivateKey privateKey, X509Certificate certificate, X509Certificate ca) {

  private static final Logger log = LoggerFactory.getLogger(IssuedCredential.class);

  /** Checks that no part is null. */
  public IssuedCredential {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(ca, "ca");
  }

  /**
   * Writes {@code <baseName>.key} (0600, PKCS#8), {@code <baseName>.crt} (0644, the leaf only) and,
   * if absent, {@code ca.crt} (0644) into {@code dir}, creating it (0700) if needed. Each file is
   * replaced atomically, key and certificate as one set ({@link AtomicFiles#writeAll}): after a
   * crash, {@link io.meshwire.certs.tls.TlsCredentials#load} sees the old pair or the new one. An
   * existing {@code ca.crt} is kept even if it differs (logged as a warning).
   *
   * @throws IllegalArgumentException if {@code baseName} is empty or contains '/'
   * @throws CertificateStoreException naming the file that cannot be written
   */
  public void writeTo(Path dir, String baseName) {
    if (baseName == null || baseName.isEmpty() || baseName.contains("/") || baseName.startsWith(".")) {
      throw new IllegalArgumentException("baseName \"" + baseName + "\": must be a plain file name");
    }
    Path keyFile = dir.resolve(baseName + ".key");
    Path certFile = dir.resolve(baseName + ".crt");
    Path caFile = dir.resolve(MeshCa.CERT_FILE);
    try {
      AtomicFiles.writeAll(
          List.of(
              new AtomicFiles.Content(keyFile, ascii(Pem.encodePrivateKey(privateKey)), AtomicFiles.OWNER_ONLY),
              new AtomicFiles.Content(certFile, ascii(Pem.encodeCertificates(List.of(certificate))), AtomicFiles.WORLD_READABLE)));
    } catch (IOException e) {
      throw new CertificateStoreException(certFile, "cannot write " + keyFile.getFileName() + " and " + certFile.getFileName() + ": " + Pem.oneLine(e), e);
    }
    try {
      AtomicFiles.writeNew(
          caFile, ascii(Pem.encodeCertificates(List.of(ca))), AtomicFiles.WORLD_READABLE);
    } catch (FileAlreadyExistsException e) {
      X509Certificate existing = Pem.readCertificates(caFile).get(0);
      if (!existing.equals(ca)) {
        log.warn("event=ca_file_differs file={} kept_fingerprint={} issuer_fingerprint={}",
            caFile, Certificates.sha256Fingerprint(existing), Certificates.sha256Fingerprint(ca));
      }
    } catch (IOException e) {
      throw new CertificateStoreException(caFile, "cannot write: " + Pem.oneLine(e), e);
    }
  }

  private static byte[] ascii(String pem) {
    return pem.getBytes(StandardCharsets.US_ASCII);
  }

  /** Shows the identity and validity, never the key. */
  @Override
  public String toString() {
    return "IssuedCredential[subject=" + certificate.getSubjectX500Principal()
        + ", serial=" + certificate.getSerialNumber().toString(16)
        + ", notAfter=" + certificate.getNotAfter().toInstant() + "]";
  }
}
