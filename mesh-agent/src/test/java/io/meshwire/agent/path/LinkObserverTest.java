package io.meshwire.agent.path;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Evidence and roaming from successive {@code wg show dump} readings, as a table. */
class LinkObserverTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final InetSocketAddress BRIDGE = new InetSocketAddress("127.0.0.1", 40001);
  private static final InetSocketAddress GATEWAY = new InetSocketAddress("198.51.100.2", 51820);

  private static LinkObserver.Reading reading(int second, long rx, long tx, InetSocketAddress endpoint) {
    return new LinkObserver.Reading(T0.plusSeconds(second), rx, tx, Optional.of(T0), Optional.ofNullable(endpoint));
  }

  /** rx, tx per second on a direct link, and the evidence expected after each reading. */
  private static List<Evidence> direct(long[][] counters) {
    LinkObserver o = new LinkObserver(Duration.ofSeconds(2));
    return java.util.stream.IntStream.range(0, counters.length)
        .mapToObj(i -> o.observe(reading(i, counters[i][0], counters[i][1], GATEWAY), Path.DIRECT, BRIDGE,
            Set.of(GATEWAY), Evidence.IDLE, true).direct())
        .toList();
  }

  @Test
  void receivedBytesAreAliveSilenceWhileSendingIsAMissIdleIsNothing() {
    assertEquals(List.of(Evidence.IDLE, Evidence.ALIVE, Evidence.IDLE, Evidence.IDLE),
        direct(new long[][] {{100, 100}, {200, 200}, {200, 200}, {200, 200}}), "idle link");
    // Blackhole at t=2: we keep sending, nothing comes back; a miss once silence reaches 2 s.
    assertEquals(List.of(Evidence.IDLE, Evidence.ALIVE, Evidence.IDLE, Evidence.MISS, Evidence.MISS, Evidence.MISS),
        direct(new long[][] {{100, 100}, {200, 200}, {200, 300}, {200, 400}, {200, 500}, {200, 600}}), "blackhole");
    assertEquals(List.of(Evidence.IDLE, Evidence.IDLE, Evidence.MISS, Evidence.ALIVE, Evidence.IDLE),
        direct(new long[][] {{100, 100}, {100, 200}, {100, 300}, {150, 400}, {150, 500}}), "reply resets silence");
  }

  @Test
  void aNewLinkIsAliveAtItsFirstHandshake() {
    LinkObserver o = new LinkObserver(Duration.ofSeconds(2));
    var none = new LinkObserver.Reading(T0, 0, 148, Optional.empty(), Optional.of(GATEWAY));
    assertEquals(Evidence.MISS, o.observe(none, Path.TRYING, BRIDGE, Set.of(GATEWAY), Evidence.IDLE, true).direct());
    var shook = new LinkObserver.Reading(T0.plusSeconds(1), 92, 148, Optional.of(T0.plusSeconds(1)), Optional.of(GATEWAY));
    assertEquals(Evidence.ALIVE, o.observe(shook, Path.TRYING, BRIDGE, Set.of(GATEWAY), Evidence.IDLE, true).direct());
  }

  @Test
  void relayedLinksTakeTheProbesWord() {
    LinkObserver o = new LinkObserver(Duration.ofSeconds(2));
    assertEquals(Evidence.MISS, o.observe(reading(0, 1, 1, BRIDGE), Path.RELAYED, BRIDGE, Set.of(GATEWAY),
        Evidence.MISS, true).direct());
    assertEquals(Evidence.ALIVE, o.observe(reading(1, 1, 1, BRIDGE), Path.RELAYED, BRIDGE, Set.of(GATEWAY),
        Evidence.ALIVE, true).direct());
  }

  @Test
  void wireGuardRoamingTellsWhichPathThePeerUses() {
    assertEquals(Roam.TO_RELAY, LinkObserver.roam(Path.DIRECT, Optional.of(BRIDGE), BRIDGE, Set.of(GATEWAY)));
    assertEquals(Roam.TO_DIRECT, LinkObserver.roam(Path.RELAYED, Optional.of(GATEWAY), BRIDGE, Set.of(GATEWAY)));
    assertEquals(Roam.NONE, LinkObserver.roam(Path.DIRECT, Optional.of(GATEWAY), BRIDGE, Set.of(GATEWAY)));
    assertEquals(Roam.NONE, LinkObserver.roam(Path.RELAYED, Optional.of(BRIDGE), BRIDGE, Set.of(GATEWAY)));
    assertEquals(Roam.NONE, LinkObserver.roam(Path.RELAYED, Optional.empty(), BRIDGE, Set.of(GATEWAY)));
    // Roaming to an address that is neither (a NAT rebinding) is not a path change.
    assertEquals(Roam.NONE, LinkObserver.roam(Path.RELAYED, Optional.of(new InetSocketAddress("203.0.113.9", 4000)),
        BRIDGE, Set.of(GATEWAY)));
  }
}
