package io.meshwire.console;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code LinkChanges} remembers, per directed link, the state it was last reported in and when
 * that state began. The hub keeps only each agent's latest report, not its history, so the console
 * learns the time of a change by seeing it: a link first seen in some state has been so "at least
 * since" then ({@link Change#observed()} false), a later transition has an observed time.
 *
 * <p>Not thread-safe: owned by the {@link HubFeed}'s thread.
 */
final class LinkChanges {

  /** When a link's current state began, and whether the console saw that moment. */
  record Change(Instant at, boolean observed) {}

  private record Entry(String state, Change change) {}

  private final Map<String, Entry> byLink = new HashMap<>();

  /**
   * Takes the current state of every reported link (key: any stable link name) and returns when
   * each one's state began. Links missing from {@code states} are forgotten.
   */
  Map<String, Change> update(Map<String, String> states, Instant now) {
    byLink.keySet().retainAll(states.keySet());
    Map<String, Change> out = new HashMap<>();
    states.forEach((link, state) -> {
      Entry before = byLink.get(link);
      Entry after;
      if (before == null) {
        after = new Entry(state, new Change(now, false));
      } else if (!before.state().equals(state)) {
        after = new Entry(state, new Change(now, true));
      } else {
        after = before;
      }
      byLink.put(link, after);
      out.put(link, after.change());
    });
    return out;
  }
}
