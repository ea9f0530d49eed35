package io.meshwire.agent.path;

import io.meshwire.netaddr.HostPort;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code SavedPaths} is what path selection keeps across restarts: the relays last heard from the
 * hub and each link's path. Immutable.
 */
public record SavedPaths(List<HostPort> relays, Map<String, Link> links) {

  /** One link's saved path: where it was, since when, and its probe back-off. */
  public record Link(Path path, Instant since, Duration backoff) {}

  public SavedPaths {
    relays = List.copyOf(relays);
    links = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(links));
  }

  public static final SavedPaths EMPTY = new SavedPaths(List.of(), Map.of());
}
