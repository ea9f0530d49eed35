package io.meshwire.agent.reflect;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ImportGate} decides when imports may be reconciled after a start, so that a restart with
 * peers unreachable deletes nothing: not before the API server serves the MCS kinds, and then once
 * every followed peer has settled (delivered a catalog; or, for a catalog restored from disk, once
 * its link health is known), or once the startup grace has passed since start. With no followed
 * peer only the grace opens it (an agent with a lost state file must not wipe what it imported
 * before). Once open it stays open.
 *
 * <p>Pure apart from one log line when it opens; time comes from the injected clock. Not
 * thread-safe: owned by the reflection thread.
 */
final class ImportGate {

  private static final Logger log = LoggerFactory.getLogger(ImportGate.class);

  private final InstantSource clock;
  private final Instant opensAtLatest;
  private final Set<String> delivered = new HashSet<>();
  // Peers whose catalog came from the store at start (readiness unknown until a link observation).
  private final Set<String> restored = new HashSet<>();
  private final Set<String> healthKnown = new HashSet<>();
  private boolean open;

  ImportGate(InstantSource clock, Duration startupGrace) {
    this.clock = clock;
    this.opensAtLatest = clock.instant().plus(startupGrace);
  }

  /** {@code peer}'s catalog was restored from disk at start. */
  void restored(String peer) {
    restored.add(peer);
  }

  /** {@code peer} delivered a catalog over the peer channel. */
  void delivered(String peer) {
    delivered.add(peer);
  }

  /** {@code peer}'s link health was observed (so its endpoints' readiness is known). */
  void healthObserved(String peer) {
    healthKnown.add(peer);
  }

  /** {@code peer} left the mesh. */
  void forget(String peer) {
    delivered.remove(peer);
    restored.remove(peer);
    healthKnown.remove(peer);
  }

  int restoredCount() {
    return restored.size();
  }

  /**
   * Whether imports may be reconciled now.
   *
   * @param crdsServed whether the API server serves the MCS kinds
   * @param followed the peers whose catalogs are followed (those with a peer-channel address)
   */
  boolean open(boolean crdsServed, Set<String> followed) {
    if (open) {
      return true;
    }
    if (!crdsServed) {
      return false;
    }
    boolean allSettled = !followed.isEmpty() && followed.stream().allMatch(this::settled);
    boolean graceOver = !clock.instant().isBefore(opensAtLatest);
    if (allSettled || graceOver) {
      open = true;
      log.info("import gate open reason={} delivered={} restored={} peers={}",
          allSettled ? "all_peers_settled" : "grace_over", delivered.size(), restored.size(), followed.size());
    }
    return open;
  }

  /**
   * Whether the gate may stop waiting for {@code peer}: it delivered a catalog, or its catalog was
   * restored from disk and its link health is known.
   */
  private boolean settled(String peer) {
    return restored.contains(peer) ? healthKnown.contains(peer) : delivered.contains(peer);
  }
}
