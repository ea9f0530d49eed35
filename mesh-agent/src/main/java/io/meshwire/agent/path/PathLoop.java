package io.meshwire.agent.path;

import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.wireguard.WgInterfaceState;
import io.meshwire.agent.wireguard.WgPeerState;
import io.meshwire.netaddr.HostPort;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PathLoop} is the agent's per-link path selection at work: on every {@link #tick()} (about
 * once a second) it reads WireGuard ({@code wg show dump}: counters, latest handshake, endpoint),
 * turns each peer's reading into an {@link Observation} ({@link LinkObserver}), feeds
 * {@link PathSelector}, and applies the result: a RELAYED link's WireGuard endpoint is its local
 * bridge socket ({@link Relaying}), any other link's is the peer's gateway.
 *
 * <p>Evidence without keepalive traffic: a direct link whose counters show sending without
 * receiving for {@code silence} is only suspect; the loop then sends one direct probe to the
 * peer's probe port ({@link Probes}), and only an unanswered probe counts as a miss. A relayed
 * link is probed on {@link LinkPath#nextProbe()} only. Probes never touch WireGuard, so relayed
 * traffic is not disturbed. A peer the hub's peering policy allows through a relay only
 * ({@link PeerRecord#relayOnly()}) is pinned to RELAYED: never probed, never direct.
 *
 * <p>Roaming: WireGuard moves a peer's endpoint to the source of any authenticated packet. When
 * the selected path and WireGuard's endpoint disagree after an observation, the loop pins the
 * endpoint back ({@link Endpoints#pin}); the reconciler gets the same choice through
 * {@link #overrides()} (so its passes agree), and {@code endpointsChanged} runs when that map
 * changes. Paths are persisted ({@code save}) at every switch.
 *
 * <p>Threading: {@link #tick()} and {@link #restore()} run on one thread (the agent's path timer);
 * {@link #overrides()} may be read from any.
 */
public final class PathLoop {

  private static final Logger log = LoggerFactory.getLogger(PathLoop.class);
  /** A probe's answer must come back before the next tick reads it. */
  static final Duration PROBE_TIMEOUT = Duration.ofMillis(800);

  /** The relay side of the agent ({@code RelayBridge}). Methods may block briefly. */
  public interface Relaying {
    void relays(List<HostPort> relays);

    /** Whether the connection to {@code peer}'s home relay is up. */
    boolean canReach(String peer);

    /** Connects to {@code peer}'s home relay (if not yet), so it is up when the link has to move. */
    void connectTo(String peer);

    /** Opens (or returns) the local socket that carries {@code peer}'s datagrams over its home relay. */
    InetSocketAddress open(String peer);

    Optional<InetSocketAddress> socket(String peer);

    void close(String peer);
  }

  /** Direct probes ({@link DirectProber}). */
  public interface Probes {
    CompletableFuture<Boolean> probe(InetSocketAddress target, Duration timeout);
  }

  /** Sets one WireGuard peer's endpoint, leaving the rest of it as it is. */
  public interface Endpoints {
    void pin(WgPeerState peer, InetSocketAddress endpoint);
  }

  /** Where the loop's inputs come from. */
  public record Sources(Supplier<Map<String, PeerRecord>> peers, Supplier<WgInterfaceState> wireGuard,
      Supplier<List<HostPort>> relays, Function<HostPort, Optional<InetSocketAddress>> resolve) {}

  private final PathSelector selector;
  private final Sources sources;
  private final Probes probes;
  private final Endpoints endpoints;
  private final java.util.function.Consumer<SavedPaths> save;
  private final Runnable endpointsChanged;
  private final InstantSource clock;
  private final Duration silence;
  private final Map<String, SavedPaths.Link> saved;
  private final Map<String, InetSocketAddress> overrides = new ConcurrentHashMap<>();
  private final Map<String, LinkObserver> observers = new HashMap<>();
  private final Map<String, CompletableFuture<Boolean>> pending = new HashMap<>();
  private volatile Relaying relaying;
  private List<HostPort> appliedRelays;

  /**
   * @param saved the links as persisted at the last run (a restart puts relayed links back on the relay)
   * @param save persists the paths (called at every switch)
   * @param endpointsChanged told when {@link #overrides()} changed (the reconciler's trigger)
   * @param silence how long a direct link may send without receiving before it is probed
   */
  public PathLoop(PathSelector selector, Sources sources, Probes probes, Endpoints endpoints, SavedPaths saved,
      java.util.function.Consumer<SavedPaths> save, Runnable endpointsChanged, InstantSource clock, Duration silence) {
    this.selector = selector;
    this.sources = sources;
    this.probes = probes;
    this.endpoints = endpoints;
    this.saved = new HashMap<>(saved.links());
    this.save = save;
    this.endpointsChanged = endpointsChanged;
    this.clock = clock;
    this.silence = silence;
  }

  /** Peer cluster ID to the WireGuard endpoint its link uses instead of the gateway (its bridge socket). */
  public Map<String, InetSocketAddress> overrides() {
    return Map.copyOf(overrides);
  }

  /** Connects the relay side (once the cluster certificate exists); until then no link is relayed. */
  public void relaying(Relaying r) {
    this.relaying = r;
  }

  /**
   * Puts the links persisted as RELAYED back on their bridge sockets before the first reconcile
   * pass, so an agent restarted while the hub is down (and the direct path blocked) does not try
   * direct first. Needs {@link #relaying}.
   */
  public void restore() {
    Relaying r = relaying;
    if (r == null) {
      return;
    }
    applyRelays(r);
    Instant now = clock.instant();
    for (PeerRecord peer : sources.peers().get().values()) {
      SavedPaths.Link link = saved.remove(peer.clusterId());
      if (link == null && !peer.relayOnly()) {
        continue;
      }
      LinkPath restored = selector.track(peer.clusterId(), link, now);
      if (peer.relayOnly()) {
        restored = selector.relayOnly(peer.clusterId(), true, now);
      }
      if (restored.path() == Path.RELAYED) {
        overrides.put(peer.clusterId(), r.open(peer.clusterId()));
      }
    }
  }

  /** One look at every link. */
  public void tick() {
    Instant now = clock.instant();
    Relaying r = relaying;
    if (r != null) {
      applyRelays(r);
    }
    Map<String, PeerRecord> peers = sources.peers().get();
    boolean switched = false;
    boolean overridesChanged = false;
    for (String gone : new ArrayList<>(selector.all().keySet())) {
      if (!peers.containsKey(gone)) {
        selector.forget(gone);
        observers.remove(gone);
        Optional.ofNullable(pending.remove(gone)).ifPresent(f -> f.cancel(false));
        overridesChanged |= overrides.remove(gone) != null;
        if (r != null) {
          r.close(gone);
        }
        switched = true;
      }
    }
    WgInterfaceState wg = sources.wireGuard().get();
    for (PeerRecord peer : peers.values()) {
      Optional<WgPeerState> state = wg.peer(peer.wireguardPublicKey());
      if (state.isEmpty()) {
        continue; // not configured yet: the reconciler adds it
      }
      String id = peer.clusterId();
      LinkPath before = selector.track(id, saved.remove(id), now);
      List<InetSocketAddress> direct = directEndpoints(peer);
      Optional<InetSocketAddress> bridge = r == null ? Optional.empty() : r.socket(id);
      boolean relayUp = r != null && r.canReach(id);
      if (peer.relayOnly()) {
        // The peering policy allows the relay only: no direct attempt, no probes, whatever WireGuard saw.
        LinkPath pinned = selector.relayOnly(id, true, now);
        observers.remove(id);
        Optional.ofNullable(pending.remove(id)).ifPresent(f -> f.cancel(false));
        if (r != null && !relayUp) {
          r.connectTo(id);
        }
        switched |= pinned.switchedFrom(before);
        overridesChanged |= r != null && apply(id, state.get(), before, pinned, r, bridge, direct, relayUp);
        continue;
      }
      if (before.pinned()) {
        before = selector.relayOnly(id, false, now); // the policy allows direct again: probes start now
      }
      boolean onBridge = bridge.isPresent() && state.get().endpoint().equals(bridge);
      if (r != null && !relayUp
          && (before.path() == Path.TRYING || before.misses() > 0 || pending.containsKey(id) || onBridge)) {
        r.connectTo(id); // the peer's home relay, before the link may need it (usually up by the next tick)
      }
      Evidence probed = probeOutcome(id);
      WgPeerState ps = state.get();
      Observation seen = observers.computeIfAbsent(id, k -> new LinkObserver(silence)).observe(
          new LinkObserver.Reading(now, ps.rxBytes(), ps.txBytes(), ps.latestHandshake(), ps.endpoint()),
          before.path(), bridge.orElse(null), Set.copyOf(direct), probed, relayUp);
      Observation o = seen;
      if (before.path() == Path.DIRECT) {
        // Counters only raise suspicion; an unanswered probe is what counts as a miss.
        Evidence e = seen.direct() == Evidence.ALIVE ? Evidence.ALIVE : probed;
        if (seen.direct() == Evidence.MISS) {
          startProbe(id, peer, direct);
        }
        o = new Observation(now, e, relayUp, seen.roam());
      }
      LinkPath after = selector.observe(id, o);
      if (after.path() == Path.RELAYED && after.probeDue(now)) {
        startProbe(id, peer, direct);
      }
      switched |= after.switchedFrom(before);
      overridesChanged |= apply(id, ps, before, after, r, bridge, direct, relayUp);
    }
    if (switched) {
      save.accept(selector.save(sources.relays().get()));
    }
    if (overridesChanged) {
      endpointsChanged.run();
    }
  }

  private void applyRelays(Relaying r) {
    List<HostPort> list = sources.relays().get();
    if (!list.equals(appliedRelays)) {
      r.relays(list);
      appliedRelays = list;
    }
  }

  /** Makes WireGuard's endpoint follow the selected path; true when the overrides changed. */
  private boolean apply(String id, WgPeerState ps, LinkPath before, LinkPath after, Relaying r,
      Optional<InetSocketAddress> bridge, List<InetSocketAddress> direct, boolean relayUp) {
    if (after.path() == Path.RELAYED && r != null) {
      InetSocketAddress socket = bridge.orElseGet(() -> r.open(id));
      boolean changed = !socket.equals(overrides.put(id, socket));
      if (!ps.endpoint().equals(Optional.of(socket))) {
        pin(ps, socket, id, after);
      }
      return changed;
    }
    boolean changed = overrides.remove(id) != null;
    // WireGuard roamed to the bridge but the link stays direct: re-pin, unless the relay is not up
    // yet (then the peer relays because direct does not work, and the link follows next tick).
    boolean onBridge = bridge.isPresent() && ps.endpoint().equals(bridge);
    if ((before.path() == Path.RELAYED || (onBridge && relayUp)) && !direct.isEmpty()) {
      pin(ps, direct.get(0), id, after);
    }
    return changed;
  }

  private void pin(WgPeerState ps, InetSocketAddress endpoint, String id, LinkPath link) {
    try {
      endpoints.pin(ps, endpoint);
    } catch (RuntimeException e) {
      // The reconciler applies the same endpoint from the overrides on its next pass.
      log.warn("event=link_endpoint_not_set peer={} path={} endpoint={} error=\"{}\"", id, link.path().label(),
          endpoint, e.getMessage());
    }
  }

  private Evidence probeOutcome(String id) {
    CompletableFuture<Boolean> f = pending.get(id);
    if (f == null || !f.isDone()) {
      return Evidence.IDLE;
    }
    pending.remove(id);
    return Boolean.TRUE.equals(f.getNow(false)) ? Evidence.ALIVE : Evidence.MISS;
  }

  private void startProbe(String id, PeerRecord peer, List<InetSocketAddress> direct) {
    if (direct.isEmpty() || pending.containsKey(id)) {
      return;
    }
    pending.put(id, probes.probe(probeAddress(peer, direct.get(0)), PROBE_TIMEOUT).exceptionally(e -> false));
  }

  /**
   * Where {@code peer}'s direct probes go: its announced probe port on the gateway's address, or,
   * for a peer that announces none, the gateway's port + 1 (see {@link DirectProber}).
   */
  static InetSocketAddress probeAddress(PeerRecord peer, InetSocketAddress gateway) {
    return new InetSocketAddress(gateway.getAddress(), peer.probePortOr(gateway.getPort()));
  }

  private List<InetSocketAddress> directEndpoints(PeerRecord peer) {
    LinkedHashSet<InetSocketAddress> out = new LinkedHashSet<>();
    for (HostPort hp : peer.gatewayEndpoints()) {
      sources.resolve().apply(hp).ifPresent(out::add);
    }
    return List.copyOf(out);
  }
}
