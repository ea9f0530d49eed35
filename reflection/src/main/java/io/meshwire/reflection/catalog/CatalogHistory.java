package io.meshwire.reflection.catalog;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code CatalogHistory} is the latest local catalog plus a bounded tail of the changes that led to
 * it, so that a reader that was at revision {@code r} can catch up with only what it missed. A
 * reader whose revision is older than the tail, or from another {@code catalogUid}, gets the whole
 * catalog instead ({@link Resume.Full}). Like the hub's log, a reader is just a cursor: the history
 * holds no per-reader queue.
 *
 * <p>Thread-safe: one lock guards the catalog and the tail; listeners run on the recording thread,
 * outside the lock, and must be quick (they schedule a send, they do not send).
 */
public final class CatalogHistory {

  /** What a reader at some revision needs next. */
  public sealed interface Resume {
    /** The catalog the reader ends at. */
    Catalog catalog();

    /** The reader is within the tail: these changes (possibly none) bring it to {@code catalog}. */
    record Changes(List<CatalogChange> changes, Catalog catalog) implements Resume {
      public Changes {
        changes = List.copyOf(changes);
      }
    }

    /** The reader must replace what it holds with {@code catalog}. */
    record Full(Catalog catalog) implements Resume {}
  }

  private final int capacity;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  // @GuardedBy("this")
  private Catalog latest;
  // @GuardedBy("this"): consecutive changes ending at latest.revision(), at most capacity
  private final Deque<CatalogChange> tail = new ArrayDeque<>();

  /**
   * @param capacity how many changes to keep for resuming readers
   */
  public CatalogHistory(Catalog initial, int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("catalog history capacity " + capacity + " is negative");
    }
    this.latest = initial;
    this.capacity = capacity;
  }

  /**
   * Makes {@code catalog} the latest. When it continues the current one (same uid, and its
   * revision is the current one plus the number of changes between them, as {@link Catalog#next}
   * produces), the changes join the tail; otherwise the tail is dropped and every reader will get
   * the full catalog. An older or equal revision of the same uid is ignored.
   */
  public void record(Catalog catalog) {
    synchronized (this) {
      if (catalog.catalogUid().equals(latest.catalogUid())) {
        if (catalog.revision() <= latest.revision()) {
          return;
        }
        List<CatalogChange> changes = latest.changesTo(catalog.services());
        if (latest.revision() + changes.size() == catalog.revision()) {
          tail.addAll(changes);
        } else {
          tail.clear();
        }
      } else {
        tail.clear();
      }
      while (tail.size() > capacity) {
        tail.removeFirst();
      }
      latest = catalog;
    }
    listeners.forEach(Runnable::run);
  }

  public synchronized Catalog latest() {
    return latest;
  }

  /** What a reader that holds revision {@code revision} of catalog {@code catalogUid} needs. */
  public synchronized Resume since(String catalogUid, long revision) {
    if (!latest.catalogUid().equals(catalogUid) || revision > latest.revision()) {
      return new Resume.Full(latest);
    }
    long oldestResumable = tail.isEmpty() ? latest.revision() : tail.peekFirst().revision() - 1;
    if (revision < oldestResumable) {
      return new Resume.Full(latest);
    }
    List<CatalogChange> out = new ArrayList<>();
    for (CatalogChange c : tail) {
      if (c.revision() > revision) {
        out.add(c);
      }
    }
    return new Resume.Changes(out, latest);
  }

  /** Calls {@code listener} after every recorded catalog; close the result to stop. */
  public AutoCloseable onChange(Runnable listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }
}
