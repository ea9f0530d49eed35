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
 * the {@code meshwire.audit} logger, kept in a bounded ring for {@code WatchAudit}, and pushed to
 * live subscribers.
 *
 * <p>A single hub numbers its events itself. Replicas sharing a store hand each event to a
 * {@link Shared} store, which numbers it (so a sequence means the same on every replica) and
 * brings every replica's events back through {@link #received}; the ring then holds the events
 * of all replicas.
 *
 * <p>Thread-safe.
 */
public final class AuditLog {

  private static final Logger audit = LoggerFactory.getLogger("meshwire.audit");

  /** One audit event; {@code sequence} grows with every event (per hub, or across replicas when shared). */
  public record Event(long sequence, Instant time, String actor, String action, String subject, String detail) {}

  /** Where replicas share their events; it numbers them and feeds them back through {@link #received}. */
  public interface Shared {
    /** Stores {@code event} (its sequence is 0) without blocking the caller. */
    void publish(Event event);
  }

  private final InstantSource clock;
  private final int capacity;
  private final Shared shared;
  private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
  // @GuardedBy("this")
  private final ArrayDeque<Event> ring = new ArrayDeque<>();
  // @GuardedBy("this")
  private long sequence;

  /** The audit log of a single hub. */
  public AuditLog(InstantSource clock, int capacity) {
    this(clock, capacity, null);
  }

  /** The audit log of a replica that shares its events through {@code shared} (null: a single hub). */
  public AuditLog(InstantSource clock, int capacity, Shared shared) {
    this.clock = clock;
    this.capacity = capacity;
    this.shared = shared;
  }

  public void record(String actor, String action, String subject, String detail) {
    if (shared != null) {
      audit.info("audit actor={} action={} subject={} detail=\"{}\"", actor, action, subject, detail);
      shared.publish(new Event(0, clock.instant(), actor, action, subject, detail));
      return;
    }
    Event e;
    synchronized (this) {
      e = new Event(++sequence, clock.instant(), actor, action, subject, detail);
      keep(e);
    }
    audit.info("audit seq={} actor={} action={} subject={} detail=\"{}\"", e.sequence(), actor, action, subject, detail);
    listeners.forEach(l -> l.accept(e));
  }

  /**
   * An event numbered by the shared store (this replica's or another's), in sequence order; one
   * already kept (same or lower sequence) is ignored.
   */
  public void received(Event e) {
    synchronized (this) {
      if (e.sequence() <= sequence) {
        return;
      }
      sequence = e.sequence();
      keep(e);
    }
    listeners.forEach(l -> l.accept(e));
  }

  /** Replaces the kept events with {@code events} (the shared store's, in sequence order), telling no one. */
  public synchronized void reload(List<Event> events) {
    ring.clear();
    events.forEach(this::keep);
    sequence = Math.max(sequence, events.isEmpty() ? 0 : events.get(events.size() - 1).sequence());
  }

  // @GuardedBy("this")
  private void keep(Event e) {
    ring.addLast(e);
    if (ring.size() > capacity) {
      ring.removeFirst();
    }
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
