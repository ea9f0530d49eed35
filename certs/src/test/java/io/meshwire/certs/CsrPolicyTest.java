package io.meshwire.certs;

import static io.meshwire.certs.TestCerts.dns;
import static io.meshwire.certs.TestCerts.sans;
import static io.meshwire.certs.TestCerts.uri;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.CsrRejectedException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSR policy of {@link MeshCa#sign}: what it signs for an expected identity and what it
 * rejects, with which reason. A rejection leaves the CA's files untouched. (What enrollment does
 * around it, token check and redemption, is tested on the hub's {@code EnrollmentService} itself.)
 */
class CsrPolicyTest {

  @TempDir Path hubDir;
  private final FakeClock clock = new FakeClock();
  private final SpiffeId east = new SpiffeId("demo", Role.CLUSTER, "east");
  private MeshCa ca;
  private KeyPair keyPair;

  @BeforeEach
  void setUp() {
    MeshCa.create("demo", Duration.ofDays(3650), clock).save(hubDir.resolve("ca"));
    ca = MeshCa.load(hubDir.resolve("ca"), clock);
    keyPair = Csrs.newKeyPair();
  }

  /** Signs {@code csr} for cluster east, as enrollment does for a token bound to east. */
  private X509Certificate sign(byte[] csr, Duration validity) throws Exception {
    return ca.sign(csr, east, validity);
  }

  private void assertRejected(Reason reason, byte[] csr) throws Exception {
    assertRejected(reason, csr, Duration.ofDays(90));
  }

  private void assertRejected(Reason reason, byte[] csr, Duration validity) throws Exception {
    DirSnapshot hubBefore = DirSnapshot.of(hubDir);
    CsrRejectedException e = assertThrows(CsrRejectedException.class, () -> sign(csr, validity));
    assertEquals(reason, e.reason(), e.getMessage());
    assertEquals(hubBefore, DirSnapshot.of(hubDir), "CA files untouched");
  }

  @Test
  void signsCsrFromCsrsForTheTokensCluster() throws Exception {
    X509Certificate cert = sign(Csrs.create(keyPair, east), Duration.ofDays(90));
    assertEquals(east, SpiffeId.of(cert));
    assertArrayEquals(keyPair.getPublic().getEncoded(), cert.getPublicKey().getEncoded());
    new CertificateVerifier(List.of(ca.certificate()), "demo").verify(List.of(cert), clock.instant());
  }

  @Test
  void acceptsCsrWithMatchingDnsSanAndCnOnly() throws Exception {
    sign(TestCerts.csr(keyPair, "CN=east,O=ignored", sans(uri(east.uri()), dns("east"))), Duration.ofDays(1));
    sign(TestCerts.csr(keyPair, "CN=east"), Duration.ofDays(1));
  }

  @Test
  void rejectsCsrWhoseIdentityDiffersFromToken() throws Exception {
    byte[] westCsr = Csrs.create(keyPair, new SpiffeId("demo", Role.CLUSTER, "west"));
    assertRejected(Reason.IDENTITY_MISMATCH, westCsr);
  }

  @Test
  void rejectsCsrWhoseUriSanDiffersEvenIfCnMatches() throws Exception {
    assertRejected(Reason.IDENTITY_MISMATCH, TestCerts.csr(keyPair, "CN=east", sans(uri("spiffe://demo/hub/east"))));
  }

  @Test
  void rejectsCsrWhoseCnDiffersEvenIfUriSanMatches() throws Exception {
    assertRejected(Reason.IDENTITY_MISMATCH, TestCerts.csr(keyPair, "CN=west", sans(uri(east.uri()))));
  }

  @Test
  void rejectsCsrAskingForAnExtraSan() throws Exception {
    assertRejected(Reason.IDENTITY_MISMATCH,
        TestCerts.csr(keyPair, "CN=east", sans(uri(east.uri()), new GeneralName(GeneralName.iPAddress, "10.0.0.1"))));
    assertRejected(Reason.IDENTITY_MISMATCH, TestCerts.csr(keyPair, "CN=east", sans(uri(east.uri()), dns("hub.example"))));
  }

  @Test
  void rejectsCsrNamingNoIdentity() throws Exception {
    assertRejected(Reason.IDENTITY_MISMATCH, TestCerts.csr(keyPair, "O=meshwire"));
  }

  @Test
  void rejectsCsrAskingForCaTrue() throws Exception {
    assertRejected(Reason.CA_REQUESTED, TestCerts.csr(keyPair, "CN=east",
        sans(uri(east.uri())), new TestCerts.Ext(Extension.basicConstraints, true, new BasicConstraints(true))));
  }

  @Test
  void rejectsCsrAskingForCertificateSigningUsage() throws Exception {
    assertRejected(Reason.CA_REQUESTED, TestCerts.csr(keyPair, "CN=east",
        sans(uri(east.uri())), new TestCerts.Ext(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign))));
  }

  @Test
  void rejectsCsrWithRsaKey() throws Exception {
    assertRejected(Reason.KEY_TYPE_NOT_ALLOWED, TestCerts.csr(TestCerts.rsaKeyPair(), "CN=east", sans(uri(east.uri()))));
  }

  @Test
  void rejectsCsrWithP384Key() throws Exception {
    DirSnapshot before = DirSnapshot.of(hubDir);
    var e = assertThrows(CsrRejectedException.class,
        () -> sign(TestCerts.csr(TestCerts.ecKeyPair("secp384r1"), "CN=east", sans(uri(east.uri()))), Duration.ofDays(1)));
    assertEquals(Reason.KEY_TYPE_NOT_ALLOWED, e.reason());
    assertTrue(e.getMessage().contains("secp384r1"), e.getMessage());
    assertEquals(before, DirSnapshot.of(hubDir));
  }

  @Test
  void rejectsCsrSignedByAnotherKeyAsNoProofOfPossession() throws Exception {
    KeyPair other = Csrs.newKeyPair();
    assertRejected(Reason.BAD_SIGNATURE,
        TestCerts.csr(keyPair.getPublic(), other.getPrivate(), "CN=east", sans(uri(east.uri()))));
  }

  @Test
  void rejectsCsrWithTamperedSignature() throws Exception {
    byte[] csr = Csrs.create(keyPair, east);
    csr[csr.length - 3] ^= 0x01; // inside the signature's s value
    assertRejected(Reason.BAD_SIGNATURE, csr);
  }

  @Test
  void rejectsGarbageAsMalformed() throws Exception {
    assertRejected(Reason.MALFORMED, "not a CSR".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertRejected(Reason.MALFORMED, new byte[0]);
    byte[] csr = Csrs.create(keyPair, east);
    assertRejected(Reason.MALFORMED, java.util.Arrays.copyOf(csr, csr.length - 10));
  }

  @Test
  void rejectsValidityOverThreeHundredNinetyEightDays() throws Exception {
    assertRejected(Reason.VALIDITY_TOO_LONG, Csrs.create(keyPair, east), Duration.ofDays(399));
  }

  @Test
  void signRefusesIdentityOfAnotherMeshAsCallerError() {
    assertThrows(IllegalArgumentException.class,
        () -> ca.sign(Csrs.create(keyPair, east), new SpiffeId("prod", Role.CLUSTER, "east"), Duration.ofDays(1)));
  }
}
