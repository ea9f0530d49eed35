package io.meshwire.certs.tls;

import io.meshwire.certs.AtomicFiles;
import io.meshwire.certs.CertificateStoreException;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;

/**
 * {@code TlsCredentials} is one party's TLS material: its private key, its certificate chain (leaf
 * first) and the mesh CA certificates it trusts. Immutable; built from PEM files or in memory.
 */
public record TlsCredentials(PrivateKey privateKey, List<X509Certificate> chain, List<X509Certificate> trustAnchors) {

  public TlsCredentials {
    chain = List.copyOf(chain);
    trustAnchors = List.copyOf(trustAnchors);
    if (chain.isEmpty() || trustAnchors.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain and at least one trust anchor are required");
    }
  }

  /** A credential issued by the mesh CA, trusting that CA: the key, the leaf alone, the CA. */
  public static TlsCredentials of(IssuedCredential issued) {
    return new TlsCredentials(issued.privateKey(), List.of(issued.certificate()), List.of(issued.ca()));
  }

  /**
   * Loads {@code <base>.key}, {@code <base>.crt} and {@code ca.crt} from {@code dir}, after
   * finishing a set that {@link #writeTo} committed but a crash interrupted (so the key always
   * belongs to the certificate).
   */
  public static TlsCredentials load(Path dir, String baseName) {
    try {
      AtomicFiles.finishInterruptedWrites(dir);
    } catch (IOException e) {
      throw new CertificateStoreException(dir, "cannot finish an interrupted credential write: " + e.getMessage(), e);
    }
    return new TlsCredentials(
        Pem.readPrivateKey(dir.resolve(baseName + ".key")),
        Pem.readCertificates(dir.resolve(baseName + ".crt")),
        Pem.readCertificates(dir.resolve("ca.crt")));
  }

  /**
   * Writes {@code <base>.key} (0600), {@code <base>.crt} (0644, the chain) and {@code ca.crt} (0644,
   * the trust anchors) into {@code dir} as one set: a reader through {@link #load} sees the old
   * three files or the new three, whenever the process dies.
   *
   * @throws CertificateStoreException naming the directory that cannot be written
   */
  public void writeTo(Path dir, String baseName) {
    try {
      AtomicFiles.writeAll(List.of(
          new AtomicFiles.Content(dir.resolve(baseName + ".key"), ascii(Pem.encodePrivateKey(privateKey)),
              AtomicFiles.OWNER_ONLY),
          new AtomicFiles.Content(dir.resolve(baseName + ".crt"), ascii(Pem.encodeCertificates(chain)),
              AtomicFiles.WORLD_READABLE),
          new AtomicFiles.Content(dir.resolve(MeshCa.CERT_FILE), ascii(Pem.encodeCertificates(trustAnchors)),
              AtomicFiles.WORLD_READABLE)));
    } catch (IOException e) {
      throw new CertificateStoreException(dir, "cannot write the credentials " + baseName + ": " + e.getMessage(), e);
    }
  }

  private static byte[] ascii(String pem) {
    return pem.getBytes(StandardCharsets.US_ASCII);
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** A key manager presenting this chain, for TLS contexts that take a factory. */
  public KeyManagerFactory keyManagerFactory() {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] none = new char[0];
      ks.setKeyEntry("meshwire", privateKey, none, chain.toArray(X509Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, none);
      return kmf;
    } catch (java.security.GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build a key manager for " + leaf().getSubjectX500Principal(), e);
    }
  }
}
