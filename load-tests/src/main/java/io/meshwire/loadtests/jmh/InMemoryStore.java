package io.meshwire.loadtests.jmh;

import io.meshwire.hub.store.MembershipStore;
import io.meshwire.hub.store.Recovered;
import io.meshwire.hub.store.RecoveryReport;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * {@code InMemoryStore} is a {@link MembershipStore} that keeps nothing and acknowledges every
 * append at once, so benchmarks measure the membership log and fan-out without disk I/O.
 * Thread-safe (stateless apart from the fixed recovery result).
 */
final class InMemoryStore implements MembershipStore {

  private final Recovered recovered = new Recovered(UUID.randomUUID().toString(), null, List.of(),
      new RecoveryReport(0, 0, "in memory"));

  @Override
  public Recovered recovered() {
    return recovered;
  }

  @Override
  public CompletableFuture<Void> append(long revision, byte[] entry) {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void snapshot(long revision, byte[] state) {}

  @Override
  public void close() {}
}
