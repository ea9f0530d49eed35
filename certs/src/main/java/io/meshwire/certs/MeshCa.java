package io.meshwire.certs;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code MeshCa} is a mesh's certificate authority: an ECDSA P-256 key and a self-signed
 * certificate ({@code CN=meshwire CA <mesh>}, CA:true with pathlen 0, keyCertSign|cRLSign, no
 * SAN) that signs every certificate of the mesh with SHA256withECDSA.
 *
 * <p>Two ways to issue: {@link #sign} for enrollment (the requester keeps its key and sends a
 * PKCS#10 CSR; the policy is enforced here), and {@link #issue} for the offline path, which makes
 * the key pair itself. Issued leaves have CA:false, digitalSignature, EKU serverAuth+clientAuth,
 * subject {@code CN=<name>}, SAN URI = the SPIFFE ID plus DNS = the name, a random 128-bit
 * serial, notBefore = now - {@link #BACKDATE} (clock skew) and notAfter = now + validity, capped at
 * the CA's own notAfter. Times are whole seconds.
 *
 * <p>Thread-safe: immutable apart from the injected clock; signing is concurrent.
 */
public final class MeshCa {

  /** How far before issuance a certificate's notBefore is set, to tolerate clock skew. */
  public static final Duration BACKDATE = Duration.ofMinutes(5);

  /** The longest leaf validity {@link #sign} and {@link #issue} accept (the CA/Browser Forum limit). */
  public static final Duration MAX_LEAF_VALIDITY = Duration.ofDays(398);

  /** File name of the CA certificate in a CA directory (also written next to issued credentials). */
  public static final String CERT_FILE = "ca.crt";

  /** File name of the CA private key in a CA directory. */
  public static final String KEY_FILE = "ca.key";

  private static final Logger log = LoggerFactory.getLogger(MeshCa.class);
  private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
  private static final String CN_PREFIX = "meshwire CA ";
  private static final Pattern CA_CN = Pattern.compile("CN=meshwire CA ([a-z0-9.-]{1,253})");

  private final String mesh;
  private final PrivateKey key;
  private final X509Certificate certificate;
  private final InstantSource clock;
  private final byte[] keyId;

  private MeshCa(String mesh, PrivateKey key, X509Certificate certificate, InstantSource clock) {
    this.mesh = mesh;
    this.key = key;
    this.certificate = certificate;
    this.clock = clock;
    this.keyId = Certificates.subjectKeyId(certificate);
  }

  /**
   * Creates a new CA for {@code mesh}, valid from now - {@link #BACKDATE} for {@code validity}.
   * Nothing is written; call {@link #save}.
   *
   * @throws IllegalArgumentException if {@code mesh} is not a valid trust domain or {@code validity}
   *     is not positive
   */
  public static MeshCa create(String mesh, Duration validity, InstantSource clock) {
    SpiffeId.checkMesh(mesh);
    Objects.requireNonNull(clock, "clock");
    requirePositive(validity);
    KeyPair pair = Csrs.newKeyPair();
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, CN_PREFIX + mesh).build();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            Certificates.randomSerial(),
            Date.from(now.minus(BACKDATE)),
            Date.from(now.plus(validity)),
            subject,
            pair.getPublic());
    try {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(
          Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(Certificates.computeKeyId(pair.getPublic())));
    } catch (CertIOException e) {
      throw new IllegalStateException("cannot encode CA extensions", e);
    }
    X509Certificate cert = signWith(builder, pair.getPrivate());
    log.debug("event=ca_created mesh={} serial={} not_after={}", mesh, cert.getSerialNumber().toString(16), cert.getNotAfter().toInstant());
    return new MeshCa(mesh, pair.getPrivate(), cert, clock);
  }

  /**
   * Loads the CA kept in {@code dir}: {@code ca.crt} and {@code ca.key} (PEM).
   *
   * @throws PemException naming the file if either is missing or not valid PEM
   * @throws CertificateStoreException naming the file if {@code ca.crt} is not a meshwire CA
   *     certificate or {@code ca.key} is not its private key
   */
  public static MeshCa load(Path dir, InstantSource clock) {
    Objects.requireNonNull(clock, "clock");
    Path certFile = dir.resolve(CERT_FILE);
    Path keyFile = dir.resolve(KEY_FILE);
    X509Certificate cert = Pem.readCertificate(certFile);
    PrivateKey key = Pem.readPrivateKey(keyFile);
    String mesh;
    try {
      mesh = meshOf(cert);
    } catch (IllegalArgumentException e) {
      throw new CertificateStoreException(certFile, e.getMessage());
    }
    if (!matches(key, cert.getPublicKey())) {
      throw new CertificateStoreException(keyFile, "is not the private key of " + certFile);
    }
    return new MeshCa(mesh, key, cert, clock);
  }

  /**
   * Returns the mesh a meshwire CA certificate belongs to (from its {@code CN=meshwire CA <mesh>}).
   *
   * @throws IllegalArgumentException if {@code caCert} is not a meshwire CA certificate
   */
  public static String meshOf(X509Certificate caCert) {
    if (caCert.getBasicConstraints() < 0) {
      throw new IllegalArgumentException("certificate " + caCert.getSubjectX500Principal() + " is not a CA certificate");
    }
    Matcher m = CA_CN.matcher(caCert.getSubjectX500Principal().getName(X500Principal.RFC2253));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "certificate subject \"" + caCert.getSubjectX500Principal() + "\" is not \"CN=meshwire CA <mesh>\"");
    }
    return m.group(1);
  }

  /**
   * Writes {@code ca.crt} (0644) and {@code ca.key} (0600) into {@code dir}, creating it (0700) if
   * needed. Each file is written atomically (temporary file, fsync, link); the key is written
   * first, and removed again if the certificate cannot be written.
   *
   * @throws CertificateStoreException if either file already exists (both are then left
   *     untouched) or cannot be written
   */
  public void save(Path dir) {
    Path certFile = dir.resolve(CERT_FILE);
    Path keyFile = dir.resolve(KEY_FILE);
    for (Path f : List.of(certFile, keyFile)) {
      if (Files.exists(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new CertificateStoreException(f, "already exists; refusing to overwrite an existing CA");
      }
    }
    try {
      AtomicFiles.writeNew(keyFile, Pem.encodePrivateKey(key).getBytes(StandardCharsets.US_ASCII), AtomicFiles.OWNER_ONLY);
    } catch (FileAlreadyExistsException e) {
      throw new CertificateStoreException(keyFile, "already exists; refusing to overwrite an existing CA");
    } catch (IOException e) {
      throw new CertificateStoreException(keyFile, "cannot write: " + Pem.oneLine(e), e);
    }
    try {
      AtomicFiles.writeNew(
          certFile, Pem.encodeCertificates(List.of(certificate)).getBytes(StandardCharsets.US_ASCII), AtomicFiles.WORLD_READABLE);
    } catch (IOException e) {
      deleteQuietly(keyFile, e);
      if (e instanceof FileAlreadyExistsException) {
        throw new CertificateStoreException(certFile, "already exists; refusing to overwrite an existing CA");
      }
      throw new CertificateStoreException(certFile, "cannot write: " + Pem.oneLine(e), e);
    }
  }

  /** Returns the mesh (SPIFFE trust domain) this CA signs for. */
  public String mesh() {
    return mesh;
  }

  /** Returns the CA certificate, the mesh's trust anchor. */
  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * Offline issuance: generates an EC P-256 key pair here and signs a leaf certificate for {@code
   * id}. The private key is only in the returned credential.
   *
   * @throws IllegalArgumentException if {@code id} is for another mesh or {@code validity} is not
   *     positive or exceeds {@link #MAX_LEAF_VALIDITY}
   */
  public IssuedCredential issue(SpiffeId id, Duration validity) {
    checkMeshOf(id);
    requirePositive(validity);
    if (validity.compareTo(MAX_LEAF_VALIDITY) > 0) {
      throw new IllegalArgumentException(
          "validity " + validity.toDays() + "d exceeds the maximum of " + MAX_LEAF_VALIDITY.toDays() + "d");
    }
    KeyPair pair = Csrs.newKeyPair();
    X509Certificate leaf = signLeaf(pair.getPublic(), id, validity);
    return new IssuedCredential(pair.getPrivate(), leaf, certificate);
  }

  /**
   * Signs a PKCS#10 CSR (DER) under policy; the certificate's only identity is {@code expected}.
   *
   * <p>Policy, checked in this order: the request parses ({@code MALFORMED}); its key is EC P-256
   * ({@code KEY_TYPE_NOT_ALLOWED}); its signature verifies with that key, i.e. proof of possession
   * ({@code BAD_SIGNATURE}); it does not request basicConstraints CA:true or the keyCertSign/cRLSign
   * usages ({@code CA_REQUESTED}); it names {@code expected} and nobody else: at least one of CN or
   * SAN is present, every CN equals {@code expected.name()}, every SAN is the URI {@code
   * expected.uri()} or the DNS name {@code expected.name()} ({@code IDENTITY_MISMATCH}); {@code
   * validity} is at most {@link #MAX_LEAF_VALIDITY} ({@code VALIDITY_TOO_LONG}). Nothing but the
   * public key is copied from the request.
   *
   * @throws IllegalArgumentException if {@code expected} is for another mesh or {@code validity}
   *     is not positive (caller errors, not properties of the request)
   */
  public X509Certificate sign(byte[] csrDer, SpiffeId expected, Duration validity) throws CsrRejectedException {
    checkMeshOf(expected);
    requirePositive(validity);
    PKCS10CertificationRequest csr = parse(csrDer);
    PublicKey publicKey = checkKey(csr.getSubjectPublicKeyInfo());
    checkProofOfPossession(csr);
    Extensions requested = requestedExtensions(csr);
    checkNotCa(requested);
    checkIdentity(csr.getSubject(), requested, expected);
    if (validity.compareTo(MAX_LEAF_VALIDITY) > 0) {
      throw new CsrRejectedException(
          CsrRejectedException.Reason.VALIDITY_TOO_LONG,
          "requested validity " + validity.toDays() + "d exceeds the maximum of " + MAX_LEAF_VALIDITY.toDays() + "d");
    }
    return signLeaf(publicKey, expected, validity);
  }

  /**
   * A secret of {@code length} bytes derived from this CA's private key for {@code purpose} (HKDF
   * with HMAC-SHA256, RFC 5869): the same on every hub that holds this CA, across restarts, and
   * different for every purpose. The private key itself never leaves this class.
   *
   * @throws IllegalArgumentException if {@code length} is not between 1 and 8,160 bytes
   */
  public byte[] derivedSecret(String purpose, int length) {
    if (length < 1 || length > 255 * 32) {
      throw new IllegalArgumentException("derived secret length must be 1..8160 bytes, got " + length);
    }
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec("meshwire-ca-derived-secret".getBytes(StandardCharsets.US_ASCII),
          "HmacSHA256"));
      byte[] pseudoRandomKey = mac.doFinal(key.getEncoded()); // HKDF-Extract
      mac.init(new javax.crypto.spec.SecretKeySpec(pseudoRandomKey, "HmacSHA256"));
      byte[] info = purpose.getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[length];
      byte[] block = new byte[0];
      for (int i = 1, done = 0; done < length; i++) { // HKDF-Expand
        mac.update(block);
        mac.update(info);
        mac.update((byte) i);
        block = mac.doFinal();
        System.arraycopy(block, 0, out, done, Math.min(block.length, length - done));
        done += block.length;
      }
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 unavailable: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "MeshCa[mesh=" + mesh + ", serial=" + certificate.getSerialNumber().toString(16) + "]";
  }

  // ---- leaf construction -------------------------------------------------------------------

  private X509Certificate signLeaf(PublicKey publicKey, SpiffeId id, Duration validity) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant notAfter = now.plus(validity);
    Instant caNotAfter = certificate.getNotAfter().toInstant();
    if (notAfter.isAfter(caNotAfter)) {
      notAfter = caNotAfter; // a leaf cannot outlive the CA that vouches for it
    }
    BigInteger serial = Certificates.randomSerial();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
            serial,
            Date.from(now.minus(BACKDATE)),
            Date.from(notAfter),
            new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, id.name()).build(),
            publicKey);
    try {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.uniformResourceIdentifier, id.uri()),
                new GeneralName(GeneralName.dNSName, id.name())
              }));
      builder.addExtension(
          Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(Certificates.computeKeyId(publicKey)));
      builder.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(keyId));
    } catch (CertIOException e) {
      throw new IllegalStateException("cannot encode leaf extensions", e);
    }
    X509Certificate leaf = signWith(builder, key);
    log.debug("event=certificate_issued id={} serial={} not_after={}", id, serial.toString(16), notAfter);
    return leaf;
  }

  private static X509Certificate signWith(X509v3CertificateBuilder builder, PrivateKey signingKey) {
    try {
      ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(signingKey);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (OperatorCreationException | CertificateException e) {
      throw new IllegalStateException("cannot sign certificate with " + SIGNATURE_ALGORITHM, e);
    }
  }

  // ---- CSR policy --------------------------------------------------------------------------

  private static PKCS10CertificationRequest parse(byte[] csrDer) throws CsrRejectedException {
    if (csrDer == null || csrDer.length == 0) {
      throw new CsrRejectedException(CsrRejectedException.Reason.MALFORMED, "CSR is empty");
    }
    try {
      return new PKCS10CertificationRequest(csrDer);
    } catch (IOException | RuntimeException e) {
      throw new CsrRejectedException(
          CsrRejectedException.Reason.MALFORMED, "CSR is not a DER PKCS#10 request: " + Pem.oneLine(e));
    }
  }

  private static PublicKey checkKey(SubjectPublicKeyInfo spki) throws CsrRejectedException {
    AlgorithmIdentifier alg = spki.getAlgorithm();
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(alg.getAlgorithm())) {
      throw new CsrRejectedException(
          CsrRejectedException.Reason.KEY_TYPE_NOT_ALLOWED,
          "CSR key type " + keyAlgorithmName(alg.getAlgorithm()) + " is not allowed; use EC P-256");
    }
    ASN1Encodable params = alg.getParameters();
    if (!(params instanceof ASN1ObjectIdentifier curve) || !SECObjectIdentifiers.secp256r1.equals(curve)) {
      String name = params instanceof ASN1ObjectIdentifier oid ? curveName(oid) : "with explicit parameters";
      throw new CsrRejectedException(
          CsrRejectedException.Reason.KEY_TYPE_NOT_ALLOWED, "CSR key is EC " + name + "; only EC P-256 is allowed");
    }
    try {
      return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki.getEncoded()));
    } catch (GeneralSecurityException | IOException e) {
      throw new CsrRejectedException(CsrRejectedException.Reason.MALFORMED, "CSR public key does not decode: " + Pem.oneLine(e));
    }
  }

  private static void checkProofOfPossession(PKCS10CertificationRequest csr) throws CsrRejectedException {
    boolean valid;
    try {
      valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(csr.getSubjectPublicKeyInfo()));
    } catch (OperatorCreationException | PKCSException | RuntimeException e) {
      valid = false;
    }
    if (!valid) {
      throw new CsrRejectedException(
          CsrRejectedException.Reason.BAD_SIGNATURE, "CSR signature does not verify with its public key (no proof of possession)");
    }
  }

  private static Extensions requestedExtensions(PKCS10CertificationRequest csr) throws CsrRejectedException {
    try {
      Attribute[] attributes = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
      if (attributes.length == 0) {
        return null;
      }
      if (attributes.length > 1 || attributes[0].getAttrValues().size() != 1) {
        throw new CsrRejectedException(CsrRejectedException.Reason.MALFORMED, "CSR has more than one extensionRequest");
      }
      return Extensions.getInstance(attributes[0].getAttrValues().getObjectAt(0));
    } catch (RuntimeException e) {
      throw new CsrRejectedException(CsrRejectedException.Reason.MALFORMED, "CSR extensionRequest does not decode: " + Pem.oneLine(e));
    }
  }

  private static void checkNotCa(Extensions requested) throws CsrRejectedException {
    if (requested == null) {
      return;
    }
    try {
      BasicConstraints bc = BasicConstraints.fromExtensions(requested);
      if (bc != null && bc.isCA()) {
        throw new CsrRejectedException(
            CsrRejectedException.Reason.CA_REQUESTED, "CSR requests basicConstraints CA:true; only leaf certificates are issued");
      }
      KeyUsage ku = KeyUsage.fromExtensions(requested);
      if (ku != null && (ku.hasUsages(KeyUsage.keyCertSign) || ku.hasUsages(KeyUsage.cRLSign))) {
        throw new CsrRejectedException(
            CsrRejectedException.Reason.CA_REQUESTED, "CSR requests keyCertSign/cRLSign key usage; only leaf certificates are issued");
      }
    } catch (IllegalArgumentException e) {
      throw new CsrRejectedException(CsrRejectedException.Reason.MALFORMED, "CSR extension does not decode: " + Pem.oneLine(e));
    }
  }

  private static void checkIdentity(X500Name subject, Extensions requested, SpiffeId expected) throws CsrRejectedException {
    List<String> names = new ArrayList<>();
    for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
      for (AttributeTypeAndValue tv : rdn.getTypesAndValues()) {
        if (BCStyle.CN.equals(tv.getType())) {
          String cn = tv.getValue() instanceof ASN1String s ? s.getString() : tv.getValue().toString();
          names.add(cn);
          if (!expected.name().equals(cn)) {
            throw mismatch("CN \"" + cn + "\"", expected);
          }
        }
      }
    }
    GeneralNames sans;
    try {
      sans = requested == null ? null : GeneralNames.fromExtensions(requested, Extension.subjectAlternativeName);
    } catch (IllegalArgumentException e) {
      throw new CsrRejectedException(CsrRejectedException.Reason.MALFORMED, "CSR subjectAltName does not decode: " + Pem.oneLine(e));
    }
    if (sans != null) {
      for (GeneralName san : sans.getNames()) {
        switch (san.getTagNo()) {
          case GeneralName.uniformResourceIdentifier -> {
            String uri = DERIA5String.getInstance(san.getName()).getString();
            names.add(uri);
            if (!expected.uri().equals(uri)) {
              throw mismatch("URI SAN \"" + uri + "\"", expected);
            }
          }
          case GeneralName.dNSName -> {
            String dns = DERIA5String.getInstance(san.getName()).getString();
            names.add(dns);
            if (!expected.name().equals(dns)) {
              throw mismatch("DNS SAN \"" + dns + "\"", expected);
            }
          }
          default -> throw mismatch("SAN " + san, expected);
        }
      }
    }
    if (names.isEmpty()) {
      throw new CsrRejectedException(
          CsrRejectedException.Reason.IDENTITY_MISMATCH, "CSR names no identity (no CN, no SAN); expected " + expected.uri());
    }
  }

  private static CsrRejectedException mismatch(String what, SpiffeId expected) {
    return new CsrRejectedException(
        CsrRejectedException.Reason.IDENTITY_MISMATCH,
        "CSR requests " + what + " but the expected identity is " + expected.uri());
  }

  // ---- small helpers -----------------------------------------------------------------------

  private void checkMeshOf(SpiffeId id) {
    Objects.requireNonNull(id, "id");
    if (!mesh.equals(id.mesh())) {
      throw new IllegalArgumentException("identity " + id + " is not in mesh \"" + mesh + "\" of this CA");
    }
  }

  private static void requirePositive(Duration validity) {
    if (validity == null || validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("validity " + validity + ": must be positive");
    }
  }

  private static boolean matches(PrivateKey privateKey, PublicKey publicKey) {
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(SIGNATURE_ALGORITHM);
      signer.initSign(privateKey);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(SIGNATURE_ALGORITHM);
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String keyAlgorithmName(ASN1ObjectIdentifier oid) {
    if (PKCSObjectIdentifiers.rsaEncryption.equals(oid)) {
      return "RSA";
    }
    if (org.bouncycastle.asn1.edec.EdECObjectIdentifiers.id_Ed25519.equals(oid)) {
      return "Ed25519";
    }
    return oid.getId();
  }

  private static String curveName(ASN1ObjectIdentifier oid) {
    String name = ECNamedCurveTable.getName(oid);
    return name == null ? oid.getId() : name;
  }

  private static void deleteQuietly(Path file, Exception primary) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
  }
}
