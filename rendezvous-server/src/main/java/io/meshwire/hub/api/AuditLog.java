package io.meshwire.hub.api;

import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code AuditLog} records who did what on the hub: each event is logged as one key=value line on
 * the {@code meshwire.audit} logger, kept in a bounded in-memory ring for {@code WatchAudit}, and
 * pushed to live subscribers. Thread-safe.
 */
public final class AuditLog {

  private static final Logger audit = LoggerFactory.getLogger("meshwire.audit");

  /** One audit event; {@code sequence} grows by one per event on this hub. */
  public record Event(long sequence, Instant time, String actor, String action, String subject, String detail) {}

  private final InstantSource clock;
  private final int capacity;
  private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
  // @GuardedBy("this")
  private final ArrayDeque<Event> ring = new ArrayDeque<>();
  // @GuardedBy("this")
  private long sequence;

  public AuditLog(InstantSource clock, int capacity) {
    this.clock = clock;
    this.capacity = capacity;
  }

  public void record(String actor, String action, String subject, String detail) {
    Event e;
    synchronized (this) {
      e = new Event(++sequence, clock.instant(), actor, action, subject, detail);
      ring.addLast(e);
      if (ring.size() > capacity) {
        ring.removeFirst();
      }
    }
    audit.info("audit seq={} actor={} action={} subject={} detail=\"{}\"", e.sequence(), actor, action, subject, detail);
    listeners.forEach(l -> l.accept(e));
  }

  /**
   * Registers {@code listener} for new events and returns the kept events after {@code since}, under
   * one lock so none is missed or seen twice between the two.
   */
  public synchronized List<Event> subscribe(long since, Consumer<Event> listener) {
    listeners.add(listener);
    return ring.stream().filter(e -> e.sequence() > since).toList();
  }

  public void unsubscribe(Consumer<Event> listener) {
    listeners.remove(listener);
  }
}
