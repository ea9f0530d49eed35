package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshCaTest {

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private final SpiffeId east = new SpiffeId("demo", Role.CLUSTER, "east");

  @Test
  void createsSelfSignedP256CaWithPathLenZeroForCertSigningOnly() throws Exception {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(3650), clock);
    X509Certificate cert = ca.certificate();
    assertEquals("demo", ca.mesh());
    assertEquals("CN=meshwire CA demo", cert.getSubjectX500Principal().getName());
    assertEquals(cert.getSubjectX500Principal(), cert.getIssuerX500Principal());
    cert.verify(cert.getPublicKey());
    assertEquals("SHA256withECDSA", cert.getSigAlgName());
    assertEquals(256, ((ECPublicKey) cert.getPublicKey()).getParams().getCurve().getField().getFieldSize());
    assertEquals(0, cert.getBasicConstraints());
    boolean[] ku = cert.getKeyUsage();
    assertTrue(ku[5] && ku[6], "keyCertSign and cRLSign");
    assertFalse(ku[0], "no digitalSignature");
    assertEquals(null, cert.getSubjectAlternativeNames());
    assertEquals(FakeClock.T0.minus(MeshCa.BACKDATE), cert.getNotBefore().toInstant());
    assertEquals(FakeClock.T0.plus(Duration.ofDays(3650)), cert.getNotAfter().toInstant());
  }

  @Test
  void savesCertificateWorldReadableAndKeyOwnerOnly() throws Exception {
    MeshCa.create("demo", Duration.ofDays(10), clock).save(dir.resolve("ca"));
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca/ca.crt"))));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca/ca.key"))));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca"))));
    try (var files = Files.list(dir.resolve("ca"))) {
      assertEquals(2, files.count(), "no temporary files left behind");
    }
  }

  @Test
  void loadsTheCaItSavedAndSignsWithTheSameKey() throws Exception {
    MeshCa created = MeshCa.create("demo", Duration.ofDays(10), clock);
    created.save(dir);
    MeshCa loaded = MeshCa.load(dir, clock);
    assertEquals("demo", loaded.mesh());
    assertEquals(created.certificate(), loaded.certificate());
    X509Certificate leaf = loaded.issue(east, Duration.ofDays(1)).certificate();
    leaf.verify(created.certificate().getPublicKey());
  }

  @Test
  void derivedSecretIsTheSameAfterReloadAndDiffersPerPurposeAndPerCa() {
    MeshCa created = MeshCa.create("demo", Duration.ofDays(10), clock);
    created.save(dir);
    MeshCa loaded = MeshCa.load(dir, clock);
    byte[] secret = created.derivedSecret("tls-ticket 20000", 48);
    assertEquals(48, secret.length);
    assertArrayEquals(secret, loaded.derivedSecret("tls-ticket 20000", 48), "same CA key, same secret");
    assertFalse(java.util.Arrays.equals(secret, loaded.derivedSecret("tls-ticket 20001", 48)), "another purpose");
    assertFalse(java.util.Arrays.equals(secret,
        MeshCa.create("demo", Duration.ofDays(10), clock).derivedSecret("tls-ticket 20000", 48)), "another CA");
    assertArrayEquals(java.util.Arrays.copyOf(secret, 20), created.derivedSecret("tls-ticket 20000", 20),
        "a shorter secret is a prefix (HKDF-Expand)");
    assertThrows(IllegalArgumentException.class, () -> created.derivedSecret("x", 0));
  }

  @Test
  void refusesToOverwriteAnExistingCaAndLeavesItUntouched() throws Exception {
    MeshCa.create("demo", Duration.ofDays(10), clock).save(dir);
    DirSnapshot before = DirSnapshot.of(dir);
    MeshCa other = MeshCa.create("demo", Duration.ofDays(10), clock);
    var e = assertThrows(CertificateStoreException.class, () -> other.save(dir));
    assertTrue(e.getMessage().contains(dir.resolve("ca.crt").toString()), e.getMessage());
    assertTrue(e.getMessage().contains("refusing to overwrite"), e.getMessage());
    assertEquals(before, DirSnapshot.of(dir));
  }

  @Test
  void refusesToSaveNextToALeftoverKey() throws Exception {
    Files.writeString(dir.resolve("ca.key"), "old key");
    DirSnapshot before = DirSnapshot.of(dir);
    var e = assertThrows(CertificateStoreException.class, () -> MeshCa.create("demo", Duration.ofDays(1), clock).save(dir));
    assertEquals(dir.resolve("ca.key"), e.path());
    assertEquals(before, DirSnapshot.of(dir));
  }

  @Test
  void loadNamesTheCertificateFileWhenItIsGarbage() throws Exception {
    MeshCa.create("demo", Duration.ofDays(10), clock).save(dir);
    Files.writeString(dir.resolve("ca.crt"), "this is not PEM\n");
    var e = assertThrows(PemException.class, () -> MeshCa.load(dir, clock));
    assertEquals(dir.resolve("ca.crt").toString(), e.source());
    assertTrue(e.getMessage().startsWith(dir.resolve("ca.crt") + ": no CERTIFICATE block"), e.getMessage());
  }

  @Test
  void loadNamesTheKeyFileWhenItIsMissing() throws Exception {
    MeshCa.create("demo", Duration.ofDays(10), clock).save(dir);
    Files.delete(dir.resolve("ca.key"));
    var e = assertThrows(PemException.class, () -> MeshCa.load(dir, clock));
    assertEquals(dir.resolve("ca.key") + ": no such file", e.getMessage());
  }

  @Test
  void loadRejectsAKeyThatDoesNotMatchTheCertificate() throws Exception {
    MeshCa.create("demo", Duration.ofDays(10), clock).save(dir);
    Path other = dir.resolve("other");
    MeshCa.create("demo", Duration.ofDays(10), clock).save(other);
    Files.copy(other.resolve("ca.key"), dir.resolve("ca.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    var e = assertThrows(CertificateStoreException.class, () -> MeshCa.load(dir, clock));
    assertEquals(dir.resolve("ca.key"), e.path());
    assertTrue(e.getMessage().contains("is not the private key of"), e.getMessage());
  }

  @Test
  void issuesLeafWithSpiffeAndDnsSansForServerAndClientAuth() throws Exception {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(3650), clock);
    X509Certificate leaf = ca.issue(east, Duration.ofDays(90)).certificate();
    leaf.verify(ca.certificate().getPublicKey());
    assertEquals("CN=east", leaf.getSubjectX500Principal().getName());
    assertEquals(-1, leaf.getBasicConstraints());
    boolean[] ku = leaf.getKeyUsage();
    assertTrue(ku[0], "digitalSignature");
    assertFalse(ku[5], "no keyCertSign");
    assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), leaf.getExtendedKeyUsage());
    assertEquals(
        List.of(List.of(6, "spiffe://demo/cluster/east"), List.of(2, "east")),
        List.copyOf(leaf.getSubjectAlternativeNames()));
    assertTrue(leaf.getSerialNumber().signum() > 0);
    assertTrue(leaf.getSerialNumber().bitLength() <= 128);
    assertEquals(FakeClock.T0.minus(Duration.ofMinutes(5)), leaf.getNotBefore().toInstant());
    assertEquals(FakeClock.T0.plus(Duration.ofDays(90)), leaf.getNotAfter().toInstant());
    assertArrayEquals(Certificates.subjectKeyId(ca.certificate()), Certificates.authorityKeyId(leaf).orElseThrow());
  }

  @Test
  void serialsDifferBetweenCertificates() {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(10), clock);
    assertFalse(ca.issue(east, Duration.ofDays(1)).certificate().getSerialNumber()
        .equals(ca.issue(east, Duration.ofDays(1)).certificate().getSerialNumber()));
  }

  @Test
  void leafNeverOutlivesTheCa() {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(30), clock);
    X509Certificate leaf = ca.issue(east, Duration.ofDays(90)).certificate();
    assertEquals(ca.certificate().getNotAfter(), leaf.getNotAfter());
  }

  @Test
  void issueRejectsIdentityOfAnotherMeshAndTooLongValidity() {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(3650), clock);
    var e = assertThrows(IllegalArgumentException.class,
        () -> ca.issue(new SpiffeId("prod", Role.CLUSTER, "east"), Duration.ofDays(1)));
    assertTrue(e.getMessage().contains("spiffe://prod/cluster/east"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ca.issue(east, Duration.ofDays(399)));
    assertTrue(e.getMessage().contains("399d exceeds the maximum of 398d"), e.getMessage());
  }

  @Test
  void credentialWritesOwnerOnlyKeyLeafOnlyCertificateAndCaIfAbsent() throws Exception {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(10), clock);
    IssuedCredential cred = ca.issue(east, Duration.ofDays(1));
    cred.writeTo(dir, "cluster-east");
    assertEquals(List.of(cred.certificate()), Pem.readCertificates(dir.resolve("cluster-east.crt")));
    assertEquals(cred.privateKey(), Pem.readPrivateKey(dir.resolve("cluster-east.key")));
    assertEquals(ca.certificate(), Pem.readCertificate(dir.resolve("ca.crt")));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("cluster-east.key"))));
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("cluster-east.crt"))));
    assertFalse(cred.toString().contains("PRIVATE"), cred.toString());

    byte[] caBefore = Files.readAllBytes(dir.resolve("ca.crt"));
    MeshCa.create("demo", Duration.ofDays(10), clock).issue(east, Duration.ofDays(1)).writeTo(dir, "cluster-east");
    assertArrayEquals(caBefore, Files.readAllBytes(dir.resolve("ca.crt")), "an existing ca.crt is kept");
  }

  @Test
  void opensslVerifiesIssuedLeafAgainstSavedCa() throws Exception {
    Processes.assumeInstalled("openssl");
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(30), java.time.InstantSource.system());
    ca.save(dir);
    ca.issue(east, Duration.ofDays(1)).writeTo(dir, "cluster-east");
    Processes.Result r = Processes.run(null, "openssl", "verify", "-CAfile",
        dir.resolve("ca.crt").toString(), dir.resolve("cluster-east.crt").toString());
    assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
    assertEquals(dir.resolve("cluster-east.crt") + ": OK\n", r.stdout());

    // the key openssl reads is the certificate's key
    Processes.Result pub = Processes.run(null, "openssl", "pkey", "-in", dir.resolve("cluster-east.key").toString(), "-pubout");
    assertEquals(0, pub.exitCode(), pub.stderr());
    Processes.Result certPub = Processes.run(null, "openssl", "x509", "-in", dir.resolve("cluster-east.crt").toString(), "-noout", "-pubkey");
    assertEquals(certPub.stdout(), pub.stdout());
  }

  @Test
  void opensslVerifiesCertificateSignedFromCsr() throws Exception {
    Processes.assumeInstalled("openssl");
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(30), java.time.InstantSource.system());
    ca.save(dir);
    var kp = Csrs.newKeyPair();
    X509Certificate cert = ca.sign(Csrs.create(kp, east), east, Duration.ofDays(1));
    Pem.writeCertificates(dir.resolve("east.crt"), List.of(cert));
    Processes.Result r = Processes.run(null, "openssl", "verify", "-purpose", "sslclient", "-CAfile",
        dir.resolve("ca.crt").toString(), dir.resolve("east.crt").toString());
    assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
    assertTrue(r.stdout().endsWith(": OK\n"), r.stdout());
  }
}
