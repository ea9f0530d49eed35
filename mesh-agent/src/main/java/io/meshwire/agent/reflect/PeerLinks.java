package io.meshwire.agent.reflect;

import io.meshwire.agent.ipam.ViewTranslator;
import io.meshwire.agent.peer.PeerCatalogWatcher;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PeerLinks} supervises the peer-channel links: one {@link PeerCatalogWatcher} per peer
 * with a dialable peer-channel address ({@link #dialAddress}), started when the peer appears,
 * restarted when its address moves, stopped when it leaves. Deliveries go to {@code delivered}
 * (from a watcher's thread: the owner hands them over to its own).
 *
 * <p>Watcher reconnects are timed on this object's own thread ({@code reflection-peers}) so a slow
 * API server on the owner's thread never delays them. Not thread-safe otherwise: {@link #sync},
 * {@link #follows} and {@link #close} are called on the owner's thread only.
 */
final class PeerLinks implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PeerLinks.class);

  private record Link(HostPort address, PeerCatalogWatcher watcher) {}

  private final String clusterId;
  private final List<Cidr> podCidrs;
  private final Optional<InetAddress> dialFrom;
  private final Backoff backoff;
  private final RenewableKeyManager keys;
  private final InstantSource clock;
  private final MeterRegistry meters;
  private final BiConsumer<String, Catalog> delivered;
  private final ScheduledExecutorService reconnects = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reflection-peers");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Link> links = new HashMap<>();

  /**
   * @param dialFrom the source address of connections to peers' channels, when the kernel's choice
   *     would not do (see {@link PeerCatalogWatcher})
   * @param keys the cluster certificate presented, read at every handshake
   */
  PeerLinks(String clusterId, List<Cidr> podCidrs, Optional<InetAddress> dialFrom, Backoff backoff,
      RenewableKeyManager keys, InstantSource clock, MeterRegistry meters, BiConsumer<String, Catalog> delivered) {
    this.clusterId = clusterId;
    this.podCidrs = List.copyOf(podCidrs);
    this.dialFrom = dialFrom;
    this.backoff = backoff;
    this.keys = keys;
    this.clock = clock;
    this.meters = meters;
    this.delivered = delivered;
  }

  private static Optional<InetAddress> addressLiteral(String host) {
    try {
      return Optional.of(Cidr.parseAddress(host));
    } catch (IllegalArgumentException aName) {
      return Optional.empty();
    }
  }

  /**
   * Where this cluster dials {@code record}'s peer channel. An announced address inside the peer's
   * pod CIDRs is one of the peer's pod addresses, so it is reached through this cluster's view of
   * them (empty until the view is decided: overlapping clusters all announce the same addresses);
   * a name or any other address is dialled as announced.
   */
  static Optional<HostPort> dialAddress(ViewTranslator translator, PeerRecord record) {
    Optional<HostPort> announced = record.peerChannelAddress();
    Optional<InetAddress> literal = announced.flatMap(a -> addressLiteral(a.host()));
    if (literal.isEmpty() || record.podCidrs().stream().noneMatch(c -> c.contains(literal.get()))) {
      return announced;
    }
    return translator.toLocal(record.clusterId(), literal.get())
        .map(local -> new HostPort(local.getHostAddress(), announced.get().port()));
  }

  /**
   * Brings the links in line with {@code peers}: stops those of departed peers or moved addresses,
   * starts the missing ones, each resuming from {@code resumeFrom} of its peer.
   */
  void sync(Map<String, PeerRecord> peers, ViewTranslator translator, Function<String, Optional<Catalog>> resumeFrom) {
    for (String peer : List.copyOf(links.keySet())) {
      PeerRecord record = peers.get(peer);
      Optional<HostPort> address = record == null ? Optional.empty() : dialAddress(translator, record);
      if (address.isEmpty() || !address.get().equals(links.get(peer).address())) {
        links.remove(peer).watcher().close();
      }
    }
    for (PeerRecord record : peers.values()) {
      String peer = record.clusterId();
      Optional<HostPort> dial = dialAddress(translator, record);
      if (dial.isPresent() && !links.containsKey(peer)) {
        HostPort address = dial.get();
        PeerCatalogWatcher watcher = new PeerCatalogWatcher(peer, address, dialFrom, keys, clock, backoff, reconnects,
            CatalogLimits.defaults(), meters, resumeFrom.apply(peer), delivered);
        links.put(peer, new Link(address, watcher));
        watcher.start();
        log.info("following peer catalog cluster={} peer={} address={}", clusterId, peer, address);
      }
    }
  }

  /** Whether {@code peer}'s catalog is followed now (a delivery from a stopped watcher is late). */
  boolean follows(String peer) {
    return links.containsKey(peer);
  }

  /** The peers whose catalogs are followed now. */
  Set<String> followed() {
    return Set.copyOf(links.keySet());
  }

  @Override
  public void close() {
    links.values().forEach(l -> l.watcher().close());
    links.clear();
    reconnects.shutdownNow();
  }
}
