package io.meshwire.certs.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What TLS stacks ask a key manager, before and after a renewal (the handshakes themselves: PeerChannelTest). */
class RenewableKeyManagerTest {

  private final MeshCa ca = MeshCa.create("test", Duration.ofDays(30), InstantSource.system());

  private TlsCredentials creds() {
    IssuedCredential issued = ca.issue(new SpiffeId("test", Role.CLUSTER, "east"), Duration.ofDays(1));
    return TlsCredentials.of(issued);
  }

  @Test
  void presentsTheRenewedCredentialsFromTheNextAliasOn() {
    TlsCredentials first = creds();
    TlsCredentials renewed = creds();
    RenewableKeyManager keys = new RenewableKeyManager(first);
    String before = keys.chooseEngineServerAlias("EC", null, null);

    keys.use(renewed);
    String after = keys.chooseEngineServerAlias("EC", null, null);

    assertNotEquals(before, after);
    assertSame(renewed, keys.current());
    assertSame(renewed.privateKey(), keys.getPrivateKey(after));
    assertArrayEquals(renewed.chain().toArray(X509Certificate[]::new), keys.getCertificateChain(after));
    assertEquals(after, keys.chooseEngineClientAlias(new String[] {"RSA", "EC"}, null, null));
  }

  @Test
  void aHandshakeThatChoseItsAliasBeforeTheSwapStillGetsAMatchingKeyAndChain() {
    TlsCredentials first = creds();
    RenewableKeyManager keys = new RenewableKeyManager(first);
    String chosen = keys.chooseServerAlias("EC", null, null);

    keys.use(creds());

    assertSame(first.privateKey(), keys.getPrivateKey(chosen));
    assertEquals(first.leaf(), keys.getCertificateChain(chosen)[0]);
  }

  @Test
  void offersNoAliasForAnotherKeyTypeOrAnUnknownAlias() {
    RenewableKeyManager keys = new RenewableKeyManager(creds());

    assertNull(keys.chooseServerAlias("RSA", null, null));
    assertNull(keys.chooseEngineClientAlias(new String[] {"RSA", "DH_RSA"}, null, null));
    assertEquals("meshwire-1", keys.chooseServerAlias("EC_EC", null, null)); // OpenSSL's key type names
    assertNull(keys.getPrivateKey("other"));
    assertNull(keys.getCertificateChain("other"));
  }
}
