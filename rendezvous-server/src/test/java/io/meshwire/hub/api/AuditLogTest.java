package io.meshwire.hub.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class AuditLogTest {

  private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z"));

  private static AuditLog.Event event(long sequence, String action) {
    return new AuditLog.Event(sequence, CLOCK.instant(), "admin", action, "east", "");
  }

  @Test
  void aSingleHubNumbersItsOwnEvents() {
    AuditLog log = new AuditLog(CLOCK, 10);
    log.record("admin", "token.created", "t1", "");
    log.record("admin", "token.revoked", "t1", "");

    assertEquals(List.of(1L, 2L), log.subscribe(0, e -> {}).stream().map(AuditLog.Event::sequence).toList());
  }

  @Test
  void aSharedLogKeepsWhatTheStoreNumberedOnceInOrderAndTellsSubscribers() {
    List<AuditLog.Event> published = new ArrayList<>();
    AuditLog log = new AuditLog(CLOCK, 3, published::add);
    List<AuditLog.Event> live = new CopyOnWriteArrayList<>();
    log.subscribe(0, live::add);

    log.record("admin", "token.created", "t1", "");
    assertEquals(1, published.size(), "handed to the store");
    assertEquals(0, published.get(0).sequence(), "the store numbers it");
    assertEquals(List.of(), live, "kept only once the store brings it back");

    log.received(event(17, "token.created"));
    log.received(event(17, "token.created")); // seen twice (reload and watch): kept once
    log.received(event(12, "older"));
    log.received(event(25, "cluster.joined"));

    assertEquals(List.of(17L, 25L), live.stream().map(AuditLog.Event::sequence).toList());
    assertEquals(List.of(25L), log.subscribe(17, e -> {}).stream().map(AuditLog.Event::sequence).toList(),
        "a stream resuming after 17 on this replica");
  }

  @Test
  void aReloadReplacesTheKeptEventsAndTheRingStaysBounded() {
    AuditLog log = new AuditLog(CLOCK, 2, e -> {});
    log.reload(List.of(event(3, "a"), event(5, "b"), event(9, "c")));

    assertEquals(List.of(5L, 9L), log.subscribe(0, e -> {}).stream().map(AuditLog.Event::sequence).toList());
    log.received(event(9, "c"));
    assertEquals(2, log.subscribe(0, e -> {}).size(), "an event already loaded is not kept again");
  }
}
