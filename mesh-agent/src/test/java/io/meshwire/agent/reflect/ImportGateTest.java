package io.meshwire.agent.reflect;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.FakeClock;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When imports may start after an agent start, on a fake clock: nothing waits in real time. */
class ImportGateTest {

  private static final Duration GRACE = Duration.ofMinutes(2);
  private final FakeClock clock = new FakeClock();
  private final ImportGate gate = new ImportGate(clock, GRACE);

  @Test
  void withoutPeersOnlyTheGraceOpensIt() {
    assertFalse(gate.open(true, Set.of()));
    clock.advance(GRACE.minusMillis(1));
    assertFalse(gate.open(true, Set.of()), "a lost state file must not wipe earlier imports at once");
    clock.advance(Duration.ofMillis(1));
    assertTrue(gate.open(true, Set.of()));
  }

  @Test
  void itOpensOnceEveryFollowedPeerDelivered() {
    gate.delivered("west");
    assertFalse(gate.open(true, Set.of("west", "north")), "north has not delivered");
    gate.delivered("north");
    assertTrue(gate.open(true, Set.of("west", "north")));
  }

  @Test
  void aRestoredCatalogSettlesWhenItsLinkHealthIsKnownNotBefore() {
    gate.restored("west");
    assertFalse(gate.open(true, Set.of("west")));
    gate.healthObserved("west");
    assertTrue(gate.open(true, Set.of("west")));
  }

  @Test
  void aRestoredPeerThatDeliveredIsStillWaitingForItsHealth() {
    gate.restored("west");
    gate.delivered("west");
    assertFalse(gate.open(true, Set.of("west")), "endpoints would flap to not-ready otherwise");
  }

  @Test
  void nothingOpensWhileTheCrdsAreNotServedEvenAfterTheGrace() {
    gate.delivered("west");
    clock.advance(GRACE.multipliedBy(10));
    assertFalse(gate.open(false, Set.of("west")));
    assertTrue(gate.open(true, Set.of("west")));
  }

  @Test
  void onceOpenItStaysOpen() {
    gate.delivered("west");
    assertTrue(gate.open(true, Set.of("west")));
    gate.forget("west");
    assertTrue(gate.open(false, Set.of("west", "north")));
  }

  @Test
  void aPeerThatLeftNoLongerCountsAsSettled() {
    gate.delivered("west");
    gate.forget("west");
    assertFalse(gate.open(true, Set.of("west")));
  }
}
