package io.meshwire.certs;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * {@code Csrs} is the requester's side of enrollment: make a key pair that never leaves this
 * process's storage, and a PKCS#10 request for a SPIFFE ID that {@link MeshCa#sign} accepts.
 * Stateless and thread-safe.
 */
public final class Csrs {

  private Csrs() {}

  /** Returns a fresh EC P-256 (secp256r1) key pair. */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 key generation is not available in this JDK", e);
    }
  }

  /**
   * Returns a DER PKCS#10 request for {@code id}, signed with SHA256withECDSA by {@code keyPair}:
   * subject {@code CN=<name>}, requested SAN = the URI {@code id.uri()}.
   *
   * @throws IllegalArgumentException if the key pair cannot sign with SHA256withECDSA (not EC)
   */
  public static byte[] create(KeyPair keyPair, SpiffeId id) {
    try {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri())));
      return new JcaPKCS10CertificationRequestBuilder(
              new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, id.name()).build(), keyPair.getPublic())
          .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate()))
          .getEncoded();
    } catch (OperatorCreationException e) {
      throw new IllegalArgumentException(
          "key pair: cannot sign with SHA256withECDSA (" + keyPair.getPrivate().getAlgorithm() + " key)", e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode CSR", e);
    }
  }
}
