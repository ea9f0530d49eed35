package io.meshwire.hub.store;

import java.util.concurrent.CompletableFuture;

/**
 * {@code MembershipStore}: durable log of the hub's changes. Every change has a global revision
 * (1, 2, 3, ... strictly consecutive); the store keeps each change as opaque bytes plus, from time
 * to time, an opaque snapshot of the whole state, after which older changes may be dropped.
 *
 * <p>Thread-safety: thread-safe. {@link #append} never blocks on I/O and may be called under the
 * caller's own lock (that is how revisions reach the store in order); {@link #snapshot} does its
 * I/O on the caller's thread. Implementations complete append futures in revision order and never
 * while holding one of their own locks.
 */
public interface MembershipStore extends AutoCloseable {

  /**
   * What was on disk at open: the mesh UID (created and persisted on first open: a random UUID),
   * the latest snapshot (may be null) and every entry after it, in order. The same object on every
   * call.
   */
  Recovered recovered();

  /**
   * Appends {@code entry} at {@code revision}.
   *
   * <p>The future completes once the entry is durable (fsync'd); appends arriving while an fsync
   * runs share the next one (group commit). It completes exceptionally with {@link
   * StoreException} on an I/O error, and after an I/O error the store refuses every further append
   * the same way. An append that failed may still be found on disk at the next open.
   *
   * @throws IllegalStateException if {@code revision} is not the last revision + 1, or the store is
   *     closed
   * @throws IllegalArgumentException if {@code entry} is larger than the store accepts
   */
  CompletableFuture<Void> append(long revision, byte[] entry);

  /**
   * Durably writes a snapshot of the state at {@code revision}, which must be at most the last
   * durable revision and at least the revision of the stored snapshot, then drops the log entries
   * at or below it. Runs on the caller's thread; atomic (a crash leaves the old snapshot or the new
   * one, never a mix).
   *
   * @throws IllegalStateException if {@code revision} is beyond the durable revision or older than
   *     the stored snapshot, or the store is closed
   * @throws StoreException if writing the snapshot failed (the previous snapshot stays in force)
   */
  void snapshot(long revision, byte[] state) throws StoreException;

  /** Flushes the appends already accepted (their futures complete), then closes the files. Idempotent. */
  @Override
  void close();
}
