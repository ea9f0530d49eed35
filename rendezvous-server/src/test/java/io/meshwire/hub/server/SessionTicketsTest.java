package io.meshwire.hub.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.meshwire.certs.MeshCa;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SessionTicketsTest {

  private static final Instant DAY = Instant.parse("2026-12-07T12:00:00Z");
  private final MeshCa ca = MeshCa.create("test.mesh", Duration.ofDays(30), InstantSource.fixed(DAY));

  @Test
  void aTicketEncryptedTodayIsAcceptedForItsWholeLifetimeAndNotLonger() {
    OpenSslSessionTicketKey[] today = SessionTickets.keys(ca, InstantSource.fixed(DAY));
    assertEquals(SessionTickets.KEPT_DAYS + 1, today.length);
    OpenSslSessionTicketKey[] lastDay = SessionTickets.keys(ca, InstantSource.fixed(DAY.plus(SessionTickets.LIFETIME)));
    assertArrayEquals(today[0].name(), lastDay[SessionTickets.KEPT_DAYS].name(), "still accepted 7 days later");
    assertArrayEquals(today[0].aesKey(), lastDay[SessionTickets.KEPT_DAYS].aesKey());
    assertFalse(Arrays.stream(lastDay).limit(SessionTickets.KEPT_DAYS).anyMatch(k -> Arrays.equals(k.name(),
        today[0].name())), "and no longer used to encrypt");
    OpenSslSessionTicketKey[] later = SessionTickets.keys(ca, InstantSource.fixed(DAY.plus(Duration.ofDays(8))));
    assertFalse(Arrays.stream(later).anyMatch(k -> Arrays.equals(k.name(), today[0].name())), "gone after 8 days");
  }

  @Test
  void everyHubOfTheMeshDerivesTheSameKeysAndAnotherMeshDifferentOnes() {
    OpenSslSessionTicketKey[] mine = SessionTickets.keys(ca, InstantSource.fixed(DAY));
    OpenSslSessionTicketKey[] again = SessionTickets.keys(ca, InstantSource.fixed(DAY.plusSeconds(3600)));
    for (int i = 0; i < mine.length; i++) {
      assertArrayEquals(mine[i].name(), again[i].name());
      assertArrayEquals(mine[i].hmacKey(), again[i].hmacKey());
    }
    MeshCa other = MeshCa.create("test.mesh", Duration.ofDays(30), InstantSource.fixed(DAY));
    assertFalse(Arrays.equals(mine[0].aesKey(), SessionTickets.keys(other, InstantSource.fixed(DAY))[0].aesKey()));
  }
}
