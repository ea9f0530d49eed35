package io.meshwire.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LinkChangesTest {

  private final LinkChanges changes = new LinkChanges();
  private final Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void aFirstSeenLinkIsInItsStateAtLeastSinceThen() {
    assertEquals(new LinkChanges.Change(t0, false), changes.update(Map.of("a>b", "UP"), t0).get("a>b"));
  }

  @Test
  void aTransitionIsDatedWhenSeenAndTheSameStateKeepsItsDate() {
    changes.update(Map.of("a>b", "UP"), t0);
    assertEquals(new LinkChanges.Change(t0, false), changes.update(Map.of("a>b", "UP"), t0.plusSeconds(5)).get("a>b"));
    Instant down = t0.plusSeconds(9);
    assertEquals(new LinkChanges.Change(down, true), changes.update(Map.of("a>b", "DOWN"), down).get("a>b"));
    assertEquals(new LinkChanges.Change(down, true), changes.update(Map.of("a>b", "DOWN"), down.plusSeconds(3)).get("a>b"));
  }

  @Test
  void aLinkThatWentAwayStartsOverWhenItComesBack() {
    changes.update(Map.of("a>b", "UP"), t0);
    changes.update(Map.of(), t0.plusSeconds(1));
    assertEquals(new LinkChanges.Change(t0.plusSeconds(2), false),
        changes.update(Map.of("a>b", "DOWN"), t0.plusSeconds(2)).get("a>b"));
  }
}
