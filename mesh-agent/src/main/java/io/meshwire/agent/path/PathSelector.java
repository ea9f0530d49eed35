package io.meshwire.agent.path;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PathSelector} runs {@link LinkPath} for every peer of the agent: it feeds observations,
 * logs each switch once ({@code event=link_path_changed}), and keeps the metrics an operator
 * graphs: {@code meshwire_agent_peer_path{peer,path}} (1 for the link's current path, 0 for the
 * others) and {@code meshwire_agent_path_switches_total{peer,to}}. Its {@link #save()} is what
 * {@link PathStateFile} persists. Thread-safe: {@link #observe} and membership changes serialize
 * on {@code this}; {@link #current} reads a concurrent map.
 */
public final class PathSelector {

  private static final Logger log = LoggerFactory.getLogger(PathSelector.class);

  private final PathPolicy policy;
  private final MeterRegistry meters;
  private final Map<String, LinkPath> links = new ConcurrentHashMap<>();
  /** Guarded by {@code this}: gauges registered per peer, removed with it. */
  private final Map<String, java.util.List<io.micrometer.core.instrument.Meter>> peerMeters = new HashMap<>();

  public PathSelector(PathPolicy policy, MeterRegistry meters) {
    this.policy = policy;
    this.meters = meters;
  }

  public PathPolicy policy() {
    return policy;
  }

  /**
   * Starts tracking {@code peer}: from {@code saved} (a restart puts a relayed link back on the relay
   * at once) or as a new peer trying direct. No-op for a peer already tracked.
   */
  public synchronized LinkPath track(String peer, SavedPaths.Link saved, Instant now) {
    LinkPath existing = links.get(peer);
    if (existing != null) {
      return existing;
    }
    LinkPath start = saved == null ? LinkPath.start(now, policy)
        : LinkPath.restored(saved.path(), saved.since(), saved.backoff(), now, policy);
    links.put(peer, start);
    java.util.List<io.micrometer.core.instrument.Meter> registered = new java.util.ArrayList<>();
    for (Path p : Path.values()) {
      registered.add(Gauge.builder("meshwire.agent.peer.path", links, m -> {
            LinkPath l = m.get(peer);
            return l != null && l.path() == p ? 1 : 0;
          })
          .tags("peer", peer, "path", p.label())
          .description("1 for the path the link to this peer uses now").register(meters));
    }
    peerMeters.put(peer, registered);
    if (saved != null) {
      log.info("event=link_path_restored peer={} path={} since={}", peer, start.path().label(), start.since());
    }
    return start;
  }

  /** Stops tracking a departed peer; its gauges go too. */
  public synchronized void forget(String peer) {
    links.remove(peer);
    java.util.List<io.micrometer.core.instrument.Meter> registered = peerMeters.remove(peer);
    if (registered != null) {
      registered.forEach(meters::remove);
    }
  }

  /** Applies one observation of {@code peer}'s link and returns its state after it. */
  public synchronized LinkPath observe(String peer, Observation o) {
    LinkPath before = links.get(peer);
    if (before == null) {
      throw new IllegalStateException("peer " + peer + " is not tracked");
    }
    LinkPath after = before.next(o, policy);
    links.put(peer, after);
    if (after.switchedFrom(before)) {
      switched(peer, before, after);
    }
    return after;
  }

  /**
   * Pins {@code peer}'s link to the relay (the peering policy allows nothing else) or, with
   * {@code relayOnly} false, releases a pinned link to the usual rules. A switch is logged and
   * counted like any other.
   */
  public synchronized LinkPath relayOnly(String peer, boolean relayOnly, Instant now) {
    LinkPath before = links.get(peer);
    if (before == null) {
      throw new IllegalStateException("peer " + peer + " is not tracked");
    }
    LinkPath after = relayOnly ? before.relayOnly(now) : before.released(now);
    if (after == before) {
      return before;
    }
    links.put(peer, after);
    if (after.switchedFrom(before)) {
      switched(peer, before, after);
    } else {
      log.info("event=link_relay_only peer={} relay_only={}", peer, relayOnly);
    }
    return after;
  }

  private void switched(String peer, LinkPath before, LinkPath after) {
    Counter.builder("meshwire.agent.path.switches").tags("peer", peer, "to", after.path().label())
        .description("Link path switches, by peer and new path").register(meters).increment();
    log.info("event=link_path_changed peer={} from={} to={} reason={} after_s={}", peer, before.path().label(),
        after.path().label(), after.reason(),
        java.time.Duration.between(before.since(), after.since()).toSeconds());
  }

  /** The link's state now, or null if untracked. */
  public LinkPath current(String peer) {
    return links.get(peer);
  }

  /** Every tracked link, by peer. */
  public Map<String, LinkPath> all() {
    return new TreeMap<>(links);
  }

  /** What to persist, with {@code relays}. */
  public SavedPaths save(java.util.List<io.meshwire.netaddr.HostPort> relays) {
    Map<String, SavedPaths.Link> saved = new TreeMap<>();
    links.forEach((peer, l) -> saved.put(peer, new SavedPaths.Link(l.path(), l.since(), l.backoff())));
    return new SavedPaths(relays, saved);
  }
}
