package io.meshwire.hub.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.MeshCa;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.Role;
import io.meshwire.certs.tls.TlsCredentials;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hub's copy of a peer's chain is parsed afresh for each connection and kept nowhere. */
class PeerChainTest {

  private final MeshCa ca = MeshCa.create("test.mesh", Duration.ofDays(30), InstantSource.system());
  private final List<X509Certificate> chain =
      TlsCredentials.of(ca.issue(new SpiffeId("test.mesh", Role.CLUSTER, "east"), Duration.ofDays(1))).chain();

  @Test
  void parsesTheWholeChainInOrder() throws Exception {
    List<X509Certificate> parsed = AuthInterceptor.parseChain(chain.toArray(Certificate[]::new));

    assertEquals(chain, parsed);
    assertEquals(new SpiffeId("test.mesh", Role.CLUSTER, "east"), SpiffeId.of(parsed.get(0)));
  }

  @Test
  void sameBytesParseIntoNewObjectsSoNoCacheHoldsThem() throws Exception {
    // A cache (the JDK's generateCertificate keeps 750) would hand back the object it kept.
    Certificate[] peer = chain.toArray(Certificate[]::new);

    List<X509Certificate> first = AuthInterceptor.parseChain(peer);
    List<X509Certificate> second = AuthInterceptor.parseChain(peer);

    assertEquals(first, second);
    for (int i = 0; i < first.size(); i++) {
      assertNotSame(first.get(i), second.get(i));
      assertNotSame(chain.get(i), first.get(i));
    }
  }

  @Test
  void noCertificatesIsAnEmptyChain() throws Exception {
    assertTrue(AuthInterceptor.parseChain(new Certificate[0]).isEmpty());
  }
}
