package io.meshwire.agent.status;

import static io.meshwire.agent.state.TestStates.key;
import static io.meshwire.agent.state.TestStates.peer;
import static io.meshwire.agent.state.TestStates.state;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.agent.wireguard.ShownWireGuard;
import io.meshwire.agent.wireguard.WgInterfaceState;
import io.meshwire.agent.wireguard.WgPeerState;
import io.meshwire.agent.wireguard.WireGuard;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LinkMonitorTest {
  private static final Duration DOWN_AFTER = Duration.ofSeconds(10);
  private static final AgentState STATE = state("mesh", 1, peer("west", 2));

  private Instant now = Instant.parse("2026-11-27T00:00:00Z");
  private Optional<Instant> handshake = Optional.of(now);
  private long rxBytes = 1000;
  private boolean present = true;

  private final WireGuard wg = new ShownWireGuard(() -> {
    List<WgPeerState> peers = present
        ? List.of(new WgPeerState(key(2), Optional.empty(), List.of(), handshake, rxBytes, 500, Duration.ofSeconds(3)))
        : List.of();
    return new WgInterfaceState(key(0x77), key(0x78), 51820, peers);
  });

  private final LinkMonitor monitor = new LinkMonitor(wg, "mw0", DOWN_AFTER, () -> STATE, (InstantSource) () -> now);

  private LinkHealth observe() {
    List<LinkMonitor.PeerLink> links = monitor.observe();
    assertEquals(1, links.size());
    return links.get(0).health();
  }

  private void advance(int seconds) {
    now = now.plusSeconds(seconds);
  }

  @Test
  void aPeerThatKeepsSendingStaysUpBetweenHandshakes() {
    assertEquals(LinkHealth.UP, observe());
    for (int i = 0; i < 12; i++) { // two minutes of keepalives every 3 s, handshake unchanged
      advance(3);
      rxBytes += 32;
      assertEquals(LinkHealth.UP, observe());
    }
  }

  @Test
  void aPeerSilentForLongerThanTheThresholdIsDownLongBeforeItsSessionExpires() {
    assertEquals(LinkHealth.UP, observe());
    advance(10);
    assertEquals(LinkHealth.UP, observe(), "silent exactly down-after: not yet");
    advance(1);
    assertEquals(LinkHealth.DOWN, observe(), "11 s of silence, handshake only 11 s old");
  }

  @Test
  void aSilentPeerComesBackUpWithItsFirstPacket() {
    observe();
    advance(30);
    assertEquals(LinkHealth.DOWN, observe());
    rxBytes += 148; // a handshake response arrives
    handshake = Optional.of(now);
    assertEquals(LinkHealth.UP, observe());
  }

  @Test
  void trafficDoesNotRescueAnExpiredSession() {
    handshake = Optional.of(now.minusSeconds(181));
    assertEquals(LinkHealth.DOWN, observe());
  }

  @Test
  void afterARestartADeadTunnelWithAStillValidSessionShowsDownWithinHalfTheThreshold() {
    handshake = Optional.of(now.minusSeconds(100)); // the session is still valid (< 180 s)
    assertEquals(LinkHealth.UP, observe(), "no history yet: it gets time to show life");
    advance(5);
    assertEquals(LinkHealth.UP, observe());
    advance(1);
    assertEquals(LinkHealth.DOWN, observe(), "nothing arrived for half the threshold after first sight");
  }

  @Test
  void afterARestartALiveTunnelNeverFlaps() {
    handshake = Optional.of(now.minusSeconds(100));
    for (int i = 0; i < 10; i++) {
      assertEquals(LinkHealth.UP, observe());
      advance(3);
      rxBytes += 32; // a keepalive every 3 s
    }
  }

  @Test
  void aRecentHandshakeCountsAsTheLastSignOfLife() {
    handshake = Optional.of(now.minusSeconds(2));
    assertEquals(LinkHealth.UP, observe());
    advance(8); // 10 s after the handshake
    assertEquals(LinkHealth.UP, observe());
    advance(1);
    assertEquals(LinkHealth.DOWN, observe());
  }

  @Test
  void aPeerThatLeftWireGuardAndCameBackGetsTimeToShowLifeAgain() {
    observe();
    advance(8);
    present = false;
    observe();
    present = true;
    advance(8); // 16 s since the counter last moved, but the peer is new to WireGuard
    assertEquals(LinkHealth.UP, observe());
    advance(6);
    assertEquals(LinkHealth.DOWN, observe(), "and it used them without a sign of life");
  }
}
