package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.PrivateKey;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class SpiffeIdTest {

  @TempDir java.nio.file.Path dir;

  @Test
  void parsesClusterIdentity() {
    SpiffeId id = SpiffeId.parse("spiffe://demo/cluster/east");
    assertEquals(new SpiffeId("demo", Role.CLUSTER, "east"), id);
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void uriRoundTripsForEveryRole(Role role) {
    SpiffeId id = new SpiffeId("mesh.example-1", role, "a-1");
    assertEquals("spiffe://mesh.example-1/" + role.pathSegment() + "/a-1", id.uri());
    assertEquals(id, SpiffeId.parse(id.uri()));
    assertEquals(id.uri(), id.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://demo/cluster/east", "spiffe://demo/cluster", "spiffe://demo/pod/east",
      "spiffe://Demo/cluster/east", "spiffe://demo/cluster/East", "spiffe://demo/cluster/east/x",
      "spiffe://demo/cluster/-east", "spiffe:///cluster/east", "spiffe://demo/cluster/",
      "spiffe://demo/cluster/east?x=1", "spiffe://demo:443/cluster/east",
      "spiffe://demo/cluster/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
  void rejectsMalformedUriWithMessageQuotingIt(String uri) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpiffeId.parse(uri));
    assertTrue(e.getMessage().contains("\"" + uri + "\""), e.getMessage());
  }

  @Test
  void constructorNamesTheInvalidField() {
    var e = assertThrows(IllegalArgumentException.class, () -> new SpiffeId("demo", Role.HUB, "Hub_1"));
    assertTrue(e.getMessage().startsWith("name \"Hub_1\""), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SpiffeId("", Role.HUB, "h"));
    assertTrue(e.getMessage().startsWith("mesh \"\""), e.getMessage());
  }

  @Test
  void readsIdentityFromIssuedCertificate() throws Exception {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(10), new FakeClock());
    var cred = ca.issue(new SpiffeId("demo", Role.ADMIN, "alice"), Duration.ofDays(1));
    assertEquals(SpiffeId.parse("spiffe://demo/admin/alice"), SpiffeId.of(cred.certificate()));
  }

  @Test
  void rejectsCertificateWithoutUriSan() {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(10), new FakeClock());
    var e = assertThrows(CertificateRejectedException.class, () -> SpiffeId.of(ca.certificate()));
    assertEquals(CertificateRejectedException.Reason.NO_SPIFFE_ID, e.reason());
  }

  @Test
  void rejectsCertificateWithTwoUriSans() throws Exception {
    MeshCa ca = MeshCa.create("demo", Duration.ofDays(10), new FakeClock());
    ca.save(dir);
    PrivateKey caKey = Pem.readPrivateKey(dir.resolve("ca.key"));
    var cert = TestCerts.leaf(ca.certificate(), caKey, FakeClock.T0,
        List.of("spiffe://demo/cluster/east", "spiffe://demo/cluster/west"));
    var e = assertThrows(CertificateRejectedException.class, () -> SpiffeId.of(cert));
    assertEquals(CertificateRejectedException.Reason.NO_SPIFFE_ID, e.reason());
    assertTrue(e.getMessage().contains("found 2"), e.getMessage());
  }
}
