package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.CertificateRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateVerifierTest {

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private final SpiffeId east = new SpiffeId("demo", Role.CLUSTER, "east");
  private MeshCa ca;
  private CertificateVerifier verifier;

  @BeforeEach
  void setUp() {
    ca = MeshCa.create("demo", Duration.ofDays(3650), clock);
    verifier = new CertificateVerifier(List.of(ca.certificate()), "demo");
  }

  private Reason rejection(X509Certificate cert, Instant now) {
    return assertThrows(CertificateRejectedException.class, () -> verifier.verify(List.of(cert), now)).reason();
  }

  @Test
  void acceptsLeafOfTrustedCaAndReturnsItsSpiffeId() throws Exception {
    X509Certificate leaf = ca.issue(east, Duration.ofDays(90)).certificate();
    assertEquals(east, verifier.verify(List.of(leaf), clock.instant()));
    assertEquals(east, verifier.verify(List.of(leaf, ca.certificate()), clock.instant()), "CA sent along is ignored");
  }

  @Test
  void acceptsLeavesOfEitherCaDuringRotation() throws Exception {
    MeshCa next = MeshCa.create("demo", Duration.ofDays(3650), clock);
    var both = new CertificateVerifier(List.of(ca.certificate(), next.certificate()), "demo");
    assertEquals(east, both.verify(List.of(ca.issue(east, Duration.ofDays(1)).certificate()), clock.instant()));
    assertEquals(east, both.verify(List.of(next.issue(east, Duration.ofDays(1)).certificate()), clock.instant()));
  }

  @Test
  void rejectsExpiredCertificate() {
    X509Certificate leaf = ca.issue(east, Duration.ofDays(1)).certificate();
    assertEquals(Reason.EXPIRED, rejection(leaf, FakeClock.T0.plus(Duration.ofDays(1)).plusSeconds(1)));
  }

  @Test
  void acceptsCertificateUntilTheLastSecondOfItsValidity() throws Exception {
    X509Certificate leaf = ca.issue(east, Duration.ofDays(1)).certificate();
    assertEquals(east, verifier.verify(List.of(leaf), FakeClock.T0.plus(Duration.ofDays(1))));
    assertEquals(east, verifier.verify(List.of(leaf), FakeClock.T0.minus(MeshCa.BACKDATE)));
  }

  @Test
  void rejectsNotYetValidCertificate() {
    X509Certificate leaf = ca.issue(east, Duration.ofDays(1)).certificate();
    assertEquals(Reason.NOT_YET_VALID, rejection(leaf, FakeClock.T0.minus(MeshCa.BACKDATE).minusSeconds(1)));
  }

  @Test
  void rejectsLeafWhenTheCaHasExpired() {
    MeshCa shortCa = MeshCa.create("demo", Duration.ofDays(2), clock);
    clock.advance(Duration.ofDays(1));
    X509Certificate leaf = shortCa.issue(east, Duration.ofDays(1)).certificate(); // capped at the CA's end
    var v = new CertificateVerifier(List.of(shortCa.certificate()), "demo");
    var e = assertThrows(CertificateRejectedException.class,
        () -> v.verify(List.of(leaf), FakeClock.T0.plus(Duration.ofDays(3))));
    assertEquals(Reason.EXPIRED, e.reason());
  }

  @Test
  void rejectsCertificateFromAnotherCaOfTheSameMesh() {
    MeshCa other = MeshCa.create("demo", Duration.ofDays(3650), clock);
    X509Certificate leaf = other.issue(east, Duration.ofDays(1)).certificate();
    CertificateRejectedException e = assertThrows(CertificateRejectedException.class,
        () -> verifier.verify(List.of(leaf), clock.instant()));
    assertEquals(Reason.UNKNOWN_CA, e.reason());
    assertTrue(e.getMessage().contains("not a trusted CA"), e.getMessage());
  }

  @Test
  void rejectsCertificateFromAnotherMesh() {
    MeshCa prod = MeshCa.create("prod", Duration.ofDays(3650), clock);
    X509Certificate leaf = prod.issue(new SpiffeId("prod", Role.CLUSTER, "east"), Duration.ofDays(1)).certificate();
    assertEquals(Reason.WRONG_MESH, rejection(leaf, clock.instant()));
  }

  @Test
  void rejectsCaCertificatePresentedAsIdentity() {
    assertEquals(Reason.NOT_A_LEAF, rejection(ca.certificate(), clock.instant()));
    assertEquals(Reason.NOT_A_LEAF,
        assertThrows(CertificateRejectedException.class, () -> verifier.verify(List.of(), clock.instant())).reason());
  }

  @Test
  void rejectsLeafWithoutSpiffeId() throws Exception {
    ca.save(dir);
    PrivateKey caKey = Pem.readPrivateKey(dir.resolve("ca.key"));
    X509Certificate leaf = TestCerts.leaf(ca.certificate(), caKey, clock.instant(), List.of());
    assertEquals(Reason.NO_SPIFFE_ID, rejection(leaf, clock.instant()));
  }

  @Test
  void rejectsForgedCertificateNamingTheTrustedCa() throws Exception {
    PrivateKey forger = Csrs.newKeyPair().getPrivate();
    X509Certificate forged = TestCerts.leaf(ca.certificate(), forger, clock.instant(), List.of(east.uri()));
    assertEquals(Reason.BAD_SIGNATURE, rejection(forged, clock.instant()));
  }

  @Test
  void rejectsCertificateWhoseBytesWereTampered() throws Exception {
    X509Certificate leaf = ca.issue(east, Duration.ofDays(1)).certificate();
    byte[] der = leaf.getEncoded();
    String latin = new String(der, StandardCharsets.ISO_8859_1);
    int at = latin.indexOf("east"); // the subject CN comes before the SANs
    der[at] = 'w';
    X509Certificate tampered = Pem.certificateFromDer(der, "tampered");
    assertEquals("CN=wast", tampered.getSubjectX500Principal().getName());
    assertEquals(Reason.BAD_SIGNATURE, rejection(tampered, clock.instant()));
  }

  @Test
  void rejectsRevokedCertificateButAcceptsTheReEnrolledOne() throws Exception {
    RevocationList revocations = RevocationList.open(dir.resolve("revoked"));
    var v = new CertificateVerifier(List.of(ca.certificate()), "demo", revocations);
    X509Certificate old = ca.issue(east, Duration.ofDays(1)).certificate();
    clock.advance(Duration.ofMinutes(1));
    revocations.revoke(east, clock.instant(), "lost laptop");
    clock.advance(Duration.ofSeconds(1));
    X509Certificate reEnrolled = ca.issue(east, Duration.ofDays(1)).certificate();

    var e = assertThrows(CertificateRejectedException.class, () -> v.verify(List.of(old), clock.instant()));
    assertEquals(Reason.REVOKED, e.reason());
    assertEquals(east, v.verify(List.of(reEnrolled), clock.instant()));
  }

  @Test
  void refusesNonCaTrustAnchorNamingItsIndex() {
    X509Certificate leaf = ca.issue(east, Duration.ofDays(1)).certificate();
    var e = assertThrows(IllegalArgumentException.class,
        () -> new CertificateVerifier(List.of(ca.certificate(), leaf), "demo"));
    assertTrue(e.getMessage().startsWith("trustAnchors[1]"), e.getMessage());
  }
}
