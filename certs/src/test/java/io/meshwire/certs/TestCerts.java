package io.meshwire.certs;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** {@code TestCerts} builds the malformed or hostile certificates and CSRs the policy must reject. */
final class TestCerts {

  private TestCerts() {}

  static KeyPair ecKeyPair(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  static KeyPair rsaKeyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  static String signatureAlgorithm(PrivateKey key) {
    return key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
  }

  /** A CSR with {@code subject} and {@code extensions} for {@code subjectKey}, signed by {@code signingKey}. */
  static byte[] csr(PublicKey subjectKey, PrivateKey signingKey, String subject, Ext... extensions) throws Exception {
    ExtensionsGenerator gen = new ExtensionsGenerator();
    for (Ext e : extensions) {
      gen.addExtension(e.oid(), e.critical(), e.value());
    }
    var builder = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), subjectKey);
    if (extensions.length > 0) {
      builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, gen.generate());
    }
    return builder.build(new JcaContentSignerBuilder(signatureAlgorithm(signingKey)).build(signingKey)).getEncoded();
  }

  static byte[] csr(KeyPair kp, String subject, Ext... extensions) throws Exception {
    return csr(kp.getPublic(), kp.getPrivate(), subject, extensions);
  }

  record Ext(ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {}

  static Ext sans(GeneralName... names) {
    return new Ext(Extension.subjectAlternativeName, false, new GeneralNames(names));
  }

  static GeneralName uri(String uri) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, uri);
  }

  static GeneralName dns(String name) {
    return new GeneralName(GeneralName.dNSName, name);
  }

  /**
   * A leaf claiming {@code issuer} (name and key id of that CA certificate) but signed by {@code
   * signingKey}, with the given URI SANs.
   */
  static X509Certificate leaf(X509Certificate issuer, PrivateKey signingKey, Instant now, List<String> uris) throws Exception {
    KeyPair kp = ecKeyPair("secp256r1");
    var b = new JcaX509v3CertificateBuilder(
        X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()),
        BigInteger.valueOf(now.toEpochMilli()),
        Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(Duration.ofDays(1))),
        new X500Name("CN=test"),
        kp.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(Certificates.subjectKeyId(issuer)));
    if (!uris.isEmpty()) {
      b.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(uris.stream().map(TestCerts::uri).toArray(GeneralName[]::new)));
    }
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signingKey)));
  }
}
