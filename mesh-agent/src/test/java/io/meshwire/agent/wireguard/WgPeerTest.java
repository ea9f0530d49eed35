package io.meshwire.agent.wireguard;

import static io.meshwire.agent.wireguard.TestKeys.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WgPeerTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "not-base64!   | peer public key \"not-base64!\": not base64",
        "AAAA          | peer public key \"AAAA\": 3 bytes, a WireGuard key has 32",
      })
  void rejectsKeysThatAreNotWireGuardKeys(String publicKey, String message) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new WgPeer(publicKey, Optional.empty(), List.of(), Duration.ZERO));
    assertEquals(message, e.getMessage());
  }

  @Test
  void rejectsAKeepaliveWireGuardCannotExpress() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new WgPeer(key(3), Optional.empty(), List.of(), Duration.ofMillis(1500)));
    assertEquals(
        "peer " + key(3) + ": persistent keepalive PT1.5S must be whole seconds in 0..65535",
        e.getMessage());
  }

  @Test
  void canonicalisesTheKeySoPeersCompareByValue() {
    String padded = " " + key(3) + "\n";
    assertEquals(key(3), new WgPeer(padded, Optional.empty(), List.of(), Duration.ZERO).publicKey());
  }
}
