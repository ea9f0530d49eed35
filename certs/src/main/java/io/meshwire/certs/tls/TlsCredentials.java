package io.meshwire.certs.tls;

import io.meshwire.certs.Pem;
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

  /** Loads {@code <base>.key}, {@code <base>.crt} and {@code ca.crt} from {@code dir}. */
  public static TlsCredentials load(Path dir, String baseName) {
    return new TlsCredentials(
        Pem.readPrivateKey(dir.resolve(baseName + ".key")),
        Pem.readCertificates(dir.resolve(baseName + ".crt")),
        Pem.readCertificates(dir.resolve("ca.crt")));
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
