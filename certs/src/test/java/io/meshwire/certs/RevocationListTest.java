package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RevocationListTest {

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private final SpiffeId east = new SpiffeId("demo", Role.CLUSTER, "east");
  private final SpiffeId west = new SpiffeId("demo", Role.CLUSTER, "west");
  private MeshCa ca;
  private Path file;
  private RevocationList list;

  @BeforeEach
  void setUp() {
    ca = MeshCa.create("demo", Duration.ofDays(3650), clock);
    file = dir.resolve("revocations");
    list = RevocationList.open(file);
  }

  private X509Certificate issue(SpiffeId id) {
    return ca.issue(id, Duration.ofDays(30)).certificate();
  }

  @Test
  void revokesCertificatesIssuedBeforeTheRevocation() {
    X509Certificate cert = issue(east);
    clock.advance(Duration.ofHours(1));
    list.revoke(east, clock.instant(), "compromised");
    assertTrue(list.isRevoked(cert));
    assertTrue(list.isRevoked(east));
  }

  @Test
  void revokesACertificateIssuedInTheSameSecondJustBefore() {
    clock.set(FakeClock.T0.plusMillis(100));
    X509Certificate cert = issue(east);
    list.revoke(east, FakeClock.T0.plusMillis(200), "compromised");
    assertTrue(list.isRevoked(cert));
  }

  @Test
  void allowsACertificateIssuedAfterTheRevocation() {
    Instant revokedAt = clock.instant();
    list.revoke(east, revokedAt, "re-enroll");
    clock.advance(Duration.ofSeconds(1));
    X509Certificate reEnrolled = issue(east);
    assertTrue(reEnrolled.getNotBefore().toInstant().isBefore(revokedAt), "notBefore is backdated");
    assertFalse(list.isRevoked(reEnrolled));
  }

  @Test
  void leavesOtherIdentitiesAlone() {
    X509Certificate westCert = issue(west);
    list.revoke(east, clock.instant().plusSeconds(10), "x");
    assertFalse(list.isRevoked(westCert));
    assertFalse(list.isRevoked(west));
  }

  @Test
  void revocationSurvivesReopeningTheFile() {
    X509Certificate cert = issue(east);
    list.revoke(east, clock.instant().plusSeconds(1), "reason with\ttab and\nnewline, \"quotes\" and ü");
    RevocationList reopened = RevocationList.open(file);
    assertTrue(reopened.isRevoked(cert));
    assertEquals(list.entries(), reopened.entries());
    assertEquals("reason with\ttab and\nnewline, \"quotes\" and ü", reopened.entries().get(0).reason());
  }

  @Test
  void revokingAgainIsIdempotentAndALaterCutoffWins() throws Exception {
    Instant at = clock.instant().plusSeconds(1);
    list.revoke(east, at, "first");
    DirSnapshot before = DirSnapshot.of(dir);
    list.revoke(east, at, "first");
    list.revoke(east, at.minusSeconds(60), "earlier");
    assertEquals(before, DirSnapshot.of(dir));
    assertEquals(List.of(new RevocationList.Entry(east, at, "first")), list.entries());

    list.revoke(east, at.plusSeconds(60), "later");
    assertEquals(List.of(new RevocationList.Entry(east, at.plusSeconds(60), "later")), RevocationList.open(file).entries());
  }

  @Test
  void revokeAllAppliesOnlyWhatMovesACutoffLaterInOneWrite() throws Exception {
    Instant at = clock.instant().plusSeconds(1);
    list.revoke(east, at, "first");
    DirSnapshot before = DirSnapshot.of(dir);
    assertEquals(0, list.revokeAll(List.of(new RevocationList.Entry(east, at.minusSeconds(5), "earlier"))));
    assertEquals(before, DirSnapshot.of(dir), "nothing applied, nothing written");

    assertEquals(2, list.revokeAll(List.of(new RevocationList.Entry(east, at, "same"),
        new RevocationList.Entry(east, at.plusSeconds(5), "later"), new RevocationList.Entry(west, at, "new"))));
    List<RevocationList.Entry> expected = List.of(new RevocationList.Entry(east, at.plusSeconds(5), "later"),
        new RevocationList.Entry(west, at, "new"));
    assertEquals(expected, list.entries());
    assertEquals(expected, RevocationList.open(file).entries());
  }

  @Test
  void keepsTheFileOwnerOnly() throws Exception {
    list.revoke(east, clock.instant(), "x");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void missingFileIsAnEmptyList() {
    assertEquals(List.of(), list.entries());
    assertFalse(Files.exists(file));
  }

  @Test
  void corruptFileErrorNamesTheFileAndLine() throws Exception {
    Files.writeString(file, "# header\nspiffe://demo/cluster/east\tyesterday\tx\n");
    var e = assertThrows(CertificateStoreException.class, () -> RevocationList.open(file));
    assertTrue(e.getMessage().startsWith(file + ": line 2: "), e.getMessage());
  }
}
