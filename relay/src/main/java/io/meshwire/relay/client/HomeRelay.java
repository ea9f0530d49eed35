package io.meshwire.relay.client;

import io.meshwire.netaddr.HostPort;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * {@code HomeRelay} picks each cluster's home relay from the mesh's relay list by rendezvous
 * (highest random weight) hashing of (cluster ID, relay address), so every agent computes the
 * same home for every cluster from the list alone, with no per-cluster assignment to distribute,
 * and adding or removing a relay moves only the clusters homed on it. Stateless.
 */
public final class HomeRelay {

  private HomeRelay() {}

  /** The home relay of {@code cluster}, or empty when there are no relays. */
  public static Optional<HostPort> of(String cluster, List<HostPort> relays) {
    HostPort best = null;
    long bestWeight = -1;
    for (HostPort relay : relays) {
      long w = weight(cluster, relay);
      if (w > bestWeight || (w == bestWeight && relay.toString().compareTo(best.toString()) < 0)) {
        best = relay;
        bestWeight = w;
      }
    }
    return Optional.ofNullable(best);
  }

  private static long weight(String cluster, HostPort relay) {
    CRC32C crc = new CRC32C();
    crc.update((cluster + "\n" + relay).getBytes(StandardCharsets.UTF_8));
    // Spread CRC's bits (a 64-bit finalizer, splitmix64) so near-equal inputs rank independently.
    long z = crc.getValue() + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (z ^ (z >>> 31)) >>> 1;
  }
}
