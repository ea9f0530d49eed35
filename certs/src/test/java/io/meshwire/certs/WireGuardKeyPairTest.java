package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class WireGuardKeyPairTest {

  @Test
  void generatedPrivateKeyIsClampedLikeWgGenkey() {
    for (int i = 0; i < 32; i++) {
      byte[] k = WireGuardKeyPair.generate().privateKey();
      assertEquals(0, k[0] & 7);
      assertEquals(0x40, k[31] & 0xC0);
    }
  }

  @Test
  void wgPubkeyDerivesOurPublicKeyFromOurPrivateKey() throws Exception {
    Processes.assumeInstalled("wg");
    WireGuardKeyPair kp = WireGuardKeyPair.generate();
    Processes.Result r = Processes.run(kp.privateKeyBase64() + "\n", "wg", "pubkey");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(kp.publicKeyBase64(), r.stdout().strip());
  }

  @Test
  void loadsWgGenkeyOutputAndAgreesWithWgPubkey() throws Exception {
    Processes.assumeInstalled("wg");
    String priv = Processes.run(null, "wg", "genkey").stdout().strip();
    String pub = Processes.run(priv + "\n", "wg", "pubkey").stdout().strip();
    WireGuardKeyPair kp = WireGuardKeyPair.fromPrivateBase64(priv);
    assertEquals(priv, kp.privateKeyBase64());
    assertEquals(pub, kp.publicKeyBase64());
    assertArrayEquals(Base64.getDecoder().decode(pub), WireGuardKeyPair.decodePublicKey(pub));
  }

  @Test
  void roundTripsThroughBase64() {
    WireGuardKeyPair kp = WireGuardKeyPair.generate();
    assertEquals(kp, WireGuardKeyPair.fromPrivateBase64(kp.privateKeyBase64()));
    assertNotEquals(kp, WireGuardKeyPair.generate());
  }

  @Test
  void decodePublicKeyNamesTheWrongLength() {
    String shortKey = Base64.getEncoder().encodeToString(new byte[31]);
    var e = assertThrows(IllegalArgumentException.class, () -> WireGuardKeyPair.decodePublicKey(shortKey));
    assertEquals("WireGuard public key must be 32 bytes, got 31", e.getMessage());
  }

  @Test
  void fromPrivateBase64RejectsNonBase64AndWrongLength() {
    var e = assertThrows(IllegalArgumentException.class, () -> WireGuardKeyPair.fromPrivateBase64("not*base64"));
    assertEquals(true, e.getMessage().startsWith("WireGuard private key is not valid base64"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> WireGuardKeyPair.fromPrivateBase64(Base64.getEncoder().encodeToString(new byte[33])));
    assertEquals("WireGuard private key must be 32 bytes, got 33", e.getMessage());
  }

  @Test
  void refusesAPublicKeyThatDoesNotBelongToThePrivateKey() {
    WireGuardKeyPair a = WireGuardKeyPair.generate();
    WireGuardKeyPair b = WireGuardKeyPair.generate();
    assertThrows(IllegalArgumentException.class, () -> new WireGuardKeyPair(a.privateKey(), b.publicKey()));
  }

  @Test
  void isImmutableAndToStringShowsOnlyThePublicKey() {
    WireGuardKeyPair kp = WireGuardKeyPair.generate();
    byte[] copy = kp.privateKey();
    copy[0] ^= 1;
    assertFalse(java.util.Arrays.equals(copy, kp.privateKey()));
    assertFalse(kp.toString().contains(kp.privateKeyBase64()));
    assertEquals("WireGuardKeyPair[publicKey=" + kp.publicKeyBase64() + "]", kp.toString());
  }
}
