package io.meshwire.agent.wireguard;

import io.meshwire.agent.wireguard.Change.AddPeer;
import io.meshwire.agent.wireguard.Change.AddRoute;
import io.meshwire.agent.wireguard.Change.PeerField;
import io.meshwire.agent.wireguard.Change.RemovePeer;
import io.meshwire.agent.wireguard.Change.RemoveRoute;
import io.meshwire.agent.wireguard.Change.UpdatePeer;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code DataPlane} brings a WireGuard interface and its routes to a {@link WireGuardPlan}: it reads
 * the actual state through the drivers, diffs it with {@link DataPlaneDiff} and applies only the
 * difference. Calling it periodically with the same plan repairs drift. The interface itself must
 * exist ({@link WireGuard#ensureInterface}).
 *
 * <p>It remembers, per interface, the endpoint it last configured for each peer, so that an
 * endpoint WireGuard learned by roaming is not overwritten on every pass (see {@link
 * DataPlaneDiff}). That memory starts empty and is not persisted.
 *
 * <p>Thread-safe: passes are serialised by one lock, which also guards the endpoint memory. Each
 * applied change is logged once at INFO.
 */
public final class DataPlane {
  private static final Logger log = LoggerFactory.getLogger(DataPlane.class);

  private final WireGuard wireGuard;
  private final Routes routes;
  private final ReentrantLock lock = new ReentrantLock();

  /** Interface name to peer public key to the endpoint we configured; guarded by {@link #lock}. */
  private final Map<String, Map<String, InetSocketAddress>> configuredEndpoints = new HashMap<>();

  public DataPlane(WireGuard wireGuard, Routes routes) {
    this.wireGuard = Objects.requireNonNull(wireGuard, "wireGuard");
    this.routes = Objects.requireNonNull(routes, "routes");
  }

  /** The changes {@link #apply} would make now, without making them. */
  public List<Change> pending(WireGuardPlan plan) {
    lock.lock();
    try {
      return diff(plan);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Applies the difference between {@code plan} and the actual state and returns the changes made,
   * in order. Stops at the first change that fails and throws its exception; the next pass retries
   * what is still missing.
   */
  public List<Change> apply(WireGuardPlan plan) {
    lock.lock();
    try {
      List<Change> changes = diff(plan);
      for (Change change : changes) {
        apply(plan.ifName(), change);
      }
      return changes;
    } finally {
      lock.unlock();
    }
  }

  private List<Change> diff(WireGuardPlan plan) {
    return DataPlaneDiff.diff(
        plan.peers(),
        wireGuard.show(plan.ifName()),
        plan.routes(),
        routes.routesVia(plan.ifName()),
        Map.copyOf(endpoints(plan.ifName())));
  }

  private void apply(String ifName, Change change) {
    Map<String, InetSocketAddress> endpoints = endpoints(ifName);
    switch (change) {
      case AddPeer(WgPeer peer) -> {
        wireGuard.setPeer(ifName, peer);
        peer.endpoint().ifPresentOrElse(
            e -> endpoints.put(peer.publicKey(), e), () -> endpoints.remove(peer.publicKey()));
        log.info("wireguard peer added if={} peer={} endpoint={} allowedIps={}", ifName,
            peer.publicKey(), peer.endpoint().map(Endpoints::format).orElse("(learned)"),
            peer.allowedIps());
      }
      case UpdatePeer(WgPeer peer, var fields) -> {
        boolean endpoint = fields.contains(PeerField.ENDPOINT);
        wireGuard.setPeer(ifName, endpoint ? peer : peer.withoutEndpoint());
        if (endpoint) {
          endpoints.put(peer.publicKey(), peer.endpoint().orElseThrow());
        }
        log.info("wireguard peer updated if={} peer={} fields={} endpoint={} allowedIps={}",
            ifName, peer.publicKey(), fields,
            peer.endpoint().map(Endpoints::format).orElse("(learned)"), peer.allowedIps());
      }
      case RemovePeer(String publicKey) -> {
        wireGuard.removePeer(ifName, publicKey);
        endpoints.remove(publicKey);
        log.info("wireguard peer removed if={} peer={}", ifName, publicKey);
      }
      case AddRoute(var destination) -> {
        routes.addRoute(destination, ifName);
        log.info("route added if={} destination={}", ifName, destination);
      }
      case RemoveRoute(var destination) -> {
        routes.deleteRoute(destination, ifName);
        log.info("route removed if={} destination={}", ifName, destination);
      }
    }
  }

  private Map<String, InetSocketAddress> endpoints(String ifName) {
    return configuredEndpoints.computeIfAbsent(ifName, k -> new HashMap<>());
  }
}
