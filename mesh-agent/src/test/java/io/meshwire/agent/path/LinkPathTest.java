package io.meshwire.agent.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Path selection as a table of observations, one a second, on a fake clock. */
class LinkPathTest {

  private static final PathPolicy POLICY = PathPolicy.defaults();
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static Instant at(long seconds) {
    return T0.plusSeconds(seconds);
  }

  /** Runs observations at t = 1, 2, ... s and returns the path after each. */
  private static List<Path> run(LinkPath start, Evidence[] evidence, boolean relayUp) {
    List<Path> paths = new ArrayList<>();
    LinkPath s = start;
    for (int i = 0; i < evidence.length; i++) {
      s = s.next(Observation.of(at(i + 1), evidence[i], relayUp), POLICY);
      paths.add(s.path());
    }
    return paths;
  }

  private static Evidence[] repeat(Evidence e, int n) {
    Evidence[] out = new Evidence[n];
    java.util.Arrays.fill(out, e);
    return out;
  }

  private static LinkPath direct() {
    return LinkPath.start(T0, POLICY).next(Observation.of(T0, Evidence.ALIVE, true), POLICY);
  }

  @Test
  void newPeerGoesDirectAtItsFirstHandshake() {
    LinkPath s = LinkPath.start(T0, POLICY).next(Observation.of(at(1), Evidence.ALIVE, true), POLICY);
    assertEquals(Path.DIRECT, s.path());
    assertEquals("handshake", s.reason());
    assertEquals(at(1), s.since());
  }

  @Test
  void newPeerWithoutHandshakeIsRelayedAfterFirstContactTimeout() {
    List<Path> paths = run(LinkPath.start(T0, POLICY), repeat(Evidence.MISS, 6), true);
    assertEquals(List.of(Path.TRYING, Path.TRYING, Path.TRYING, Path.TRYING, Path.TRYING, Path.RELAYED), paths);
  }

  @Test
  void newPeerWithoutARelayKeepsTryingDirect() {
    assertEquals(Path.TRYING, run(LinkPath.start(T0, POLICY), repeat(Evidence.MISS, 600), false).getLast());
  }

  @Test
  void directLinkMovesToTheRelayAfterThreeSilentSecondsNotBefore() {
    Evidence m = Evidence.MISS;
    Evidence a = Evidence.ALIVE;
    // Two misses, then an answer: the count starts over.
    assertEquals(List.of(Path.DIRECT, Path.DIRECT, Path.DIRECT, Path.DIRECT, Path.DIRECT, Path.RELAYED),
        run(direct(), new Evidence[] {m, m, a, m, m, m}, true));
    LinkPath relayed = direct();
    for (int i = 1; i <= 3; i++) {
      relayed = relayed.next(Observation.of(at(i), m, true), POLICY);
    }
    assertEquals("direct_silent", relayed.reason());
    assertEquals(at(3), relayed.since());
  }

  @Test
  void idleLinkNeverMoves() {
    assertEquals(Path.DIRECT, run(direct(), repeat(Evidence.IDLE, 3600), true).getLast());
  }

  @Test
  void unreachableRelayLeavesADirectLinkAlone() {
    LinkPath s = direct();
    for (int i = 1; i <= 100; i++) {
      s = s.next(Observation.of(at(i), Evidence.MISS, false), POLICY);
    }
    assertEquals(Path.DIRECT, s.path());
    assertEquals(100, s.misses());
  }

  @Test
  void relayedLinkProbesWithDoublingBackoffCappedAtFourMinutes() {
    LinkPath s = direct();
    for (int i = 1; i <= 3; i++) {
      s = s.next(Observation.of(at(i), Evidence.MISS, true), POLICY);
    }
    assertEquals(Path.RELAYED, s.path());
    List<Long> waits = new ArrayList<>();
    Instant now = s.since();
    for (int probe = 0; probe < 9; probe++) {
      waits.add(Duration.between(now, s.nextProbe()).toSeconds());
      now = s.nextProbe();
      assertFalse(s.probeDue(now.minusMillis(1)));
      assertTrue(s.probeDue(now));
      s = s.next(Observation.of(now, Evidence.MISS, true), POLICY);
    }
    assertEquals(List.of(5L, 10L, 20L, 40L, 80L, 160L, 240L, 240L, 240L), waits);
    assertEquals(Path.RELAYED, s.path());
  }

  @Test
  void relayedLinkUpgradesOnlyAfterTenSecondsOfUnbrokenAnsweredProbes() {
    LinkPath s = LinkPath.restored(Path.RELAYED, T0, Duration.ofSeconds(5), T0, POLICY);
    Instant now = s.nextProbe();
    // Nine answered probes, one lost: the streak starts over.
    for (int i = 0; i < 9; i++) {
      s = s.next(Observation.of(now, Evidence.ALIVE, true), POLICY);
      now = s.nextProbe();
    }
    s = s.next(Observation.of(now, Evidence.MISS, true), POLICY);
    assertEquals(Path.RELAYED, s.path());
    now = s.nextProbe();
    Instant streak = now;
    while (s.path() == Path.RELAYED) {
      s = s.next(Observation.of(now, Evidence.ALIVE, true), POLICY);
      now = s.path() == Path.RELAYED ? s.nextProbe() : now;
    }
    assertEquals(Duration.ofSeconds(10), Duration.between(streak, s.since()));
    assertEquals("direct_recovered", s.reason());
  }

  @Test
  void followsThePeerOntoTheRelayAtOnceAndBackToDirectOnceAProbeConfirmsIt() {
    LinkPath relayed = direct().next(new Observation(at(1), Evidence.ALIVE, true, Roam.TO_RELAY), POLICY);
    assertEquals(Path.RELAYED, relayed.path());
    assertEquals("peer_relayed", relayed.reason());
    LinkPath roamed = relayed.next(new Observation(at(2), Evidence.IDLE, true, Roam.TO_DIRECT), POLICY);
    assertEquals(Path.RELAYED, roamed.path(), "a roam alone does not prove direct works both ways");
    assertTrue(roamed.probeDue(at(2)), "the roam makes a direct probe due at once");
    LinkPath back = roamed.next(Observation.of(at(3), Evidence.ALIVE, true), POLICY);
    assertEquals(Path.DIRECT, back.path());
    assertEquals("peer_direct", back.reason());
  }

  @Test
  void peerDirectRoamWithUnansweredProbesStaysRelayedAndExpires() {
    LinkPath s = LinkPath.restored(Path.RELAYED, T0, Duration.ofSeconds(5), T0, POLICY)
        .next(new Observation(at(1), Evidence.IDLE, true, Roam.TO_DIRECT), POLICY)
        .next(Observation.of(at(2), Evidence.MISS, true), POLICY);
    assertEquals(Path.RELAYED, s.path());
    // An answer long after the roam is an ordinary probe: the ten-second streak rule applies.
    s = s.next(Observation.of(at(2 + 60), Evidence.ALIVE, true), POLICY);
    assertEquals(Path.RELAYED, s.path());
  }

  @Test
  void roamToTheRelayRightAfterAnUpgradeIsIgnoredThePeerIsExpectedToFollow() {
    LinkPath up = LinkPath.restored(Path.RELAYED, T0, Duration.ofSeconds(5), T0, POLICY)
        .next(new Observation(at(1), Evidence.ALIVE, true, Roam.TO_DIRECT), POLICY);
    assertEquals(Path.DIRECT, up.path());
    LinkPath s = up.next(new Observation(at(2), Evidence.ALIVE, true, Roam.TO_RELAY), POLICY);
    assertEquals(Path.DIRECT, s.path(), "within first-contact of our upgrade");
    s = s.next(new Observation(at(1 + 6), Evidence.ALIVE, true, Roam.TO_RELAY), POLICY);
    assertEquals(Path.RELAYED, s.path(), "after it, the peer's relayed packets are followed");
  }

  @Test
  void relayThatGoesAwayMakesARelayedLinkTryDirectAgain() {
    LinkPath s = LinkPath.restored(Path.RELAYED, T0, Duration.ofSeconds(5), T0, POLICY)
        .next(Observation.of(at(1), Evidence.IDLE, false), POLICY);
    assertEquals(Path.TRYING, s.path());
    assertEquals("relay_down", s.reason());
  }

  @Test
  void restoredRelayedLinkStaysRelayedAndProbesSoon() {
    LinkPath s = LinkPath.restored(Path.RELAYED, T0.minusSeconds(3600), Duration.ofMinutes(30), T0, POLICY);
    assertEquals(Path.RELAYED, s.path());
    assertEquals(POLICY.maxBackoff(), s.backoff());
    assertEquals(T0.plus(POLICY.initialBackoff()), s.nextProbe());
  }

  @Test
  void downgradeSoonAfterAnUpgradeKeepsBackingOffAndALongHealthyStretchResetsIt() {
    LinkPath s = LinkPath.restored(Path.RELAYED, T0, Duration.ofSeconds(80), T0, POLICY);
    s = s.next(new Observation(at(1), Evidence.ALIVE, true, Roam.TO_DIRECT), POLICY);
    for (int i = 2; i <= 4; i++) {
      s = s.next(Observation.of(at(i), Evidence.MISS, true), POLICY);
    }
    assertEquals(Path.RELAYED, s.path());
    assertEquals(Duration.ofSeconds(160), s.backoff(), "a flap doubles the back-off");

    LinkPath stable = s.next(new Observation(at(5), Evidence.ALIVE, true, Roam.TO_DIRECT), POLICY)
        .next(Observation.of(at(5 + 600), Evidence.ALIVE, true), POLICY);
    assertEquals(POLICY.initialBackoff(), stable.backoff());
  }

  @Test
  void lossyPathSettlesInsteadOfFlapping() {
    // 50% of seconds look silent (light traffic over a lossy path), half the probes are lost.
    Random random = new Random(14);
    LinkPath s = direct();
    int switches = 0;
    for (int t = 1; t <= 3600; t++) {
      Instant now = at(t);
      Evidence e;
      if (s.path() == Path.RELAYED) {
        e = s.probeDue(now) ? (random.nextBoolean() ? Evidence.ALIVE : Evidence.MISS) : Evidence.IDLE;
      } else {
        e = random.nextBoolean() ? Evidence.ALIVE : Evidence.MISS;
      }
      LinkPath next = s.next(Observation.of(now, e, true), POLICY);
      switches += next.switchedFrom(s) ? 1 : 0;
      s = next;
    }
    // Ten unbroken answered probes in a row is rare at 50% loss: the link stays relayed.
    assertTrue(switches <= 4, switches + " switches in an hour");
  }
}
