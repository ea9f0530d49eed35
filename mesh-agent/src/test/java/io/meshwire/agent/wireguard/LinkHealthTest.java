package io.meshwire.agent.wireguard;

import static io.meshwire.agent.wireguard.TestKeys.key;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinkHealthTest {
  private static final Instant NOW = Instant.parse("2025-11-27T00:00:00Z");

  @ParameterizedTest(name = "handshake {0} s ago -> {1}")
  @CsvSource({
    "0,    UP",
    "119,  UP",
    "180,  UP",
    "181,  DOWN",
    "3600, DOWN",
    "-30,  UP",
    ",     DOWN",
  })
  void isUpWhileTheLatestHandshakeIsAtMost180SecondsOld(Long ageSeconds, LinkHealth expected) {
    Optional<Instant> handshake = Optional.ofNullable(ageSeconds).map(NOW::minusSeconds);
    WgPeerState peer =
        new WgPeerState(key(1), Optional.empty(), List.of(), handshake, 0, 0, Duration.ZERO);
    assertEquals(expected, LinkHealth.of(peer, NOW));
  }
}
