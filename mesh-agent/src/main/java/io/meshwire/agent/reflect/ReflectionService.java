package io.meshwire.agent.reflect;

import io.grpc.ServerBuilder;
import io.kubernetes.client.openapi.ApiClient;
import io.meshwire.agent.ipam.ViewTranslator;
import io.meshwire.agent.peer.PeerServer;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.export.KubeExportWatcher;
import io.meshwire.reflection.imports.KubeApiException;
import io.meshwire.reflection.imports.KubeImportApi;
import io.meshwire.reflection.imports.ServiceImporter;
import io.meshwire.reflection.kube.McsCrds;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ReflectionService} runs Multi-Cluster Services reflection for the agent: this cluster's
 * exports ({@link KubeExportWatcher}) go into the catalog a {@link CatalogServer} serves to peers;
 * {@link PeerLinks} follows the catalog of every peer with a peer-channel address, and a
 * {@link ServiceImporter} keeps the imported ServiceImports, derived Services and EndpointSlices
 * equal to what those catalogs call for, with endpoint addresses rewritten to how this cluster
 * reaches them ({@link ViewTranslator#toLocal}). This class is the coordinator: it decides which
 * catalogs are imported and when imports are reconciled; the parts above own their resources.
 *
 * <p>Imports come from current peers only: a catalog is accepted only from a peer in the agent
 * state that is followed now. What removes imported objects: a peer leaving the agent state (the
 * hub removed or revoked it, or a peering policy no longer lets it be a peer) and a peer's catalog
 * no longer holding a service. A departed peer's objects go at once, even while the startup gate
 * below is still closed ({@link ServiceImporter#removeSourceNow}). A peer whose tunnel is down
 * keeps its objects, its endpoints turned not-ready ({@link #linksObserved}); losing the hub
 * changes nothing here, since the state keeps its peers meanwhile.
 *
 * <p>Startup gate ({@link ImportGate}): imports are not reconciled until every followed peer has
 * delivered a catalog once, or {@link Settings#startupGrace} has passed since start, so a restart
 * with peers unreachable deletes nothing. (With no such peer known, only the grace opens it: an
 * agent with a lost state file must not wipe what it imported before.) Once open it stays open.
 *
 * <p>Restarts: with {@link Settings#stateDir} set, the last catalog of every peer is kept in a
 * {@link PeerCatalogStore} file there, rewritten (coalesced, see {@link #PERSIST_DELAY}) when a
 * new revision arrives or a peer leaves. On start, peers still in the agent state get their stored
 * catalog back: it is imported as it was, and their watchers resume from its revision and uid
 * (only the changes missed come over the wire). A restored peer's endpoints are not-ready until
 * {@link #linksObserved} reports its link UP: nothing says its tunnel works yet, and traffic must
 * not be sent into a tunnel that may be down. For the same reason a restored peer counts for the
 * startup gate once its link health is known, not once it delivers, so a healthy restart does not
 * flap endpoints to not-ready while the first link observation is on its way. Stored catalogs of
 * peers no longer in the state are dropped (their imports go, as for any departed peer). A
 * corrupt, oversized or unknown file is moved aside, logged and counted
 * ({@code meshwire.agent.peer.catalogs.corrupt}), and the service starts as if there were none.
 *
 * <p>Certificates: the peer server and the watchers present the certificate held by one
 * {@link RenewableKeyManager}, read at every handshake; {@link #useCredentials} swaps it, so a
 * renewal reaches new connections and reconnects while established streams stay up.
 *
 * <p>Nothing starts (no informer, no import) until the API server serves the MCS kinds
 * ({@link CrdWait}).
 *
 * <p>Time: every wait (startup grace, resync, CRD re-checks, server retries, catalog writes) goes
 * through one {@link Delays} and the gate reads the injected clock, so tests move time by hand.
 *
 * <p>Threads: every mutable field below is owned by the private {@code reflection} thread; public
 * methods and callbacks only enqueue work on it, and importer reconciliations run there too
 * (serialized, coalesced). Watcher reconnects run on {@link PeerLinks}' thread, the CRD probe on
 * {@link CrdWait}'s, catalog file writes (fsync) on the {@link CatalogPersister}'s. Thread-safe.
 */
public final class ReflectionService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ReflectionService.class);

  /**
   * @param peerListen where the peer server listens ({@code peer-listen})
   * @param podCidrs this cluster's pod CIDRs (for the address translator)
   * @param startupGrace how long the import gate waits for every peer's first catalog
   * @param resync how often imports are reconciled without a change (drift repair)
   * @param dialFrom the source address of connections to peers' channels, when the kernel's choice
   *     would not do (see {@link PeerCatalogWatcher}): this cluster's announced peer-channel address
   * @param stateDir the agent's state directory, where peer catalogs are kept across restarts
   *     ({@link PeerCatalogStore}); empty: not kept
   */
  public record Settings(String clusterId, HostPort peerListen, List<Cidr> podCidrs, Duration startupGrace,
      Duration resync, Duration bookmarkInterval, Backoff backoff, KubeExportWatcher.Options export,
      Optional<InetAddress> dialFrom, Optional<Path> stateDir) {

    public Settings {
      podCidrs = List.copyOf(podCidrs);
    }

    /**
     * @param dialFrom the local address peers' channels are dialled from (the announced
     *     peer-channel address when it is on a local interface), empty for the kernel's choice
     */
    public static Settings defaults(String clusterId, HostPort peerListen, List<Cidr> podCidrs,
        Optional<InetAddress> dialFrom) {
      return new Settings(clusterId, peerListen, podCidrs, Duration.ofSeconds(60), Duration.ofSeconds(30),
          Duration.ofSeconds(30), Backoff.defaults(), KubeExportWatcher.Options.defaults(), dialFrom, Optional.empty());
    }

    /** These settings with peer catalogs kept in {@code dir}. */
    public Settings withStateDir(Path dir) {
      return new Settings(clusterId, peerListen, podCidrs, startupGrace, resync, bookmarkInterval, backoff, export,
          dialFrom, Optional.of(dir));
    }
  }

  /**
   * How long a new catalog waits before it is written, so that a burst (endpoints flapping in a
   * large service, a rolling update) costs one fsync'd write instead of one per change. The file
   * is a starting point, not a source of truth: a crash inside this window loses at most the last
   * revisions, and the watcher then resumes from an older one (the peer sends what was missed, or
   * its full catalog), while imports in Kubernetes are left as they are until then. An fsync per
   * event would tie the catalog churn of every peer to this node's disk latency for no gain.
   */
  static final Duration PERSIST_DELAY = Duration.ofSeconds(1);

  /** How long a failed catalog write waits before it is tried again (when nothing newer comes). */
  private static final Duration PERSIST_RETRY = Duration.ofSeconds(10);

  private final Settings settings;
  private final RenewableKeyManager keys;
  private final Supplier<AgentState> state;
  private final KubeExportWatcher exports;
  private final ServiceImporter importer;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reflection");
    t.setDaemon(true);
    return t;
  });
  private final Delays delays;
  private final MeterRegistry meters;
  private final CatalogServer server;
  private final PeerLinks links;
  private final CrdWait crds;
  private final Optional<PeerCatalogStore> store;
  private final Optional<CatalogPersister> persister;
  private final AtomicBoolean reconcilePending = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  // Owned by the loop thread.
  private final Map<String, Catalog> catalogs = new HashMap<>();
  private final ImportGate gate;
  private final Map<String, Boolean> ready = new HashMap<>();
  private Set<String> lastPeers = Set.of(); // the peer set of the previous syncPeers
  private boolean closed;

  private ReflectionService(Settings settings, ApiClient client, TlsCredentials credentials, Supplier<AgentState> state,
      InstantSource clock, Optional<Delays> delays, Optional<ServerBuilder<?>> peerTransport, MeterRegistry meters) {
    this.settings = settings;
    this.keys = new RenewableKeyManager(credentials);
    this.state = state;
    this.meters = meters;
    this.delays = delays.orElse(Delays.on(loop));
    this.gate = new ImportGate(clock, settings.startupGrace());
    this.store = settings.stateDir().map(dir -> new PeerCatalogStore(dir, CatalogLimits.defaults(), clock));
    this.persister = store.map(st -> new CatalogPersister(st, PERSIST_DELAY, PERSIST_RETRY,
        delays.orElse(null), meters));
    this.importer = new ServiceImporter(new KubeImportApi(client));
    this.exports = new KubeExportWatcher(client, settings.clusterId(), settings.export(), clock,
        c -> execute(() -> localCatalog(c)));
    Predicate<String> isPeer = peer -> state.get().peers().containsKey(peer);
    CatalogServer.Starter starter = peerTransport.isPresent()
        ? history -> PeerServer.start(peerTransport.get(), settings.clusterId(), history, isPeer,
            settings.bookmarkInterval(), meters)
        : history -> PeerServer.start(settings.peerListen(), keys, settings.clusterId(), history, isPeer,
            settings.bookmarkInterval(), clock, meters);
    this.server = new CatalogServer(starter, settings.peerListen().toString(), this.delays, this::execute);
    this.links = new PeerLinks(settings.clusterId(), settings.podCidrs(), settings.dialFrom(), settings.backoff(), keys,
        clock, meters, (p, c) -> execute(() -> peerCatalog(p, c)));
    this.crds = new CrdWait(() -> McsCrds.check(client), settings.resync(), this.delays, this::execute,
        this::crdsServed, meters);
  }

  /**
   * Starts watching exports, peers and links; the peer server follows the first local catalog.
   *
   * @param state the agent's current state (peers, views), read on every {@link #stateChanged}
   */
  public static ReflectionService start(Settings settings, ApiClient client, TlsCredentials credentials,
      Supplier<AgentState> state, InstantSource clock, MeterRegistry meters) {
    return start(new ReflectionService(settings, client, credentials, state, clock, Optional.empty(), Optional.empty(),
        meters));
  }

  /**
   * As above with time moved by {@code delays} (tests: by hand, with {@code clock} a fake one) and,
   * if given, the peer server on {@code peerTransport} instead of the TLS listener.
   */
  static ReflectionService start(Settings settings, ApiClient client, TlsCredentials credentials,
      Supplier<AgentState> state, InstantSource clock, Delays delays, Optional<ServerBuilder<?>> peerTransport,
      MeterRegistry meters) {
    return start(new ReflectionService(settings, client, credentials, state, clock, Optional.of(delays), peerTransport,
        meters));
  }

  private static ReflectionService start(ReflectionService s) {
    // In this order on the loop: the CRD check's answer comes back behind restore, and the
    // watchers syncPeers starts resume from what restore loaded.
    s.execute(s.crds::check);
    s.execute(s::restore);
    s.stateChanged();
    s.delays.after(s.settings.startupGrace(), () -> s.execute(s::reconcileSoon));
    s.delays.after(s.settings.resync(), () -> s.execute(s::resync));
    log.info("reflection started cluster={} peer_listen={} startup_grace={} catalog_file={}", s.settings.clusterId(),
        s.settings.peerListen(), s.settings.startupGrace(), s.store.map(PeerCatalogStore::path).orElse(null));
    return s;
  }

  /** The agent state changed (peers joined or left, views moved): only enqueues. */
  public void stateChanged() {
    execute(this::syncPeers);
  }

  /** The latest link health per peer: a peer that goes DOWN has its endpoints turned not-ready. */
  public void linksObserved(Map<String, LinkHealth> health) {
    Map<String, LinkHealth> copy = Map.copyOf(health);
    execute(() -> {
      boolean changed = false;
      for (Map.Entry<String, LinkHealth> e : copy.entrySet()) {
        boolean up = e.getValue() == LinkHealth.UP;
        gate.healthObserved(e.getKey());
        if (!Boolean.valueOf(up).equals(ready.put(e.getKey(), up))) {
          importer.setSourceReady(e.getKey(), up);
          changed = true;
          log.info("import source readiness peer={} ready={}", e.getKey(), up);
        }
      }
      if (changed) {
        reconcileSoon();
      }
    });
  }

  /**
   * Presents {@code renewed} (the same cluster's renewed certificate) on the peer channel from the
   * next handshake on: new connections to the peer server and watcher reconnects. Established
   * streams keep their session. The trust anchors stay those of the start: a changed CA bundle
   * is logged and takes effect on restart.
   */
  public void useCredentials(TlsCredentials renewed) {
    TlsCredentials before = keys.current();
    if (!renewed.trustAnchors().equals(before.trustAnchors())) {
      log.warn("peer channel trust anchors changed with the renewal; the new CA bundle applies after a restart"
          + " cluster={}", settings.clusterId());
    }
    keys.use(renewed);
    log.info("peer channel certificate swapped cluster={} serial={} not_after={}", settings.clusterId(),
        renewed.leaf().getSerialNumber().toString(16), renewed.leaf().getNotAfter().toInstant());
  }

  /** {@code {"exported":N,"sources":M}}: local services exported, peers imported from. */
  public String statusJson() {
    return "{\"exported\":" + server.exported() + ",\"sources\":" + importer.sources().size() + "}";
  }

  /** The peer server's port once it listens (useful with port 0). */
  public Optional<Integer> peerPort() {
    return server.port();
  }

  /** Waits until the work enqueued before this call ran (tests: after moving time by hand). */
  void awaitIdle() throws Exception {
    loop.submit(() -> null).get(15, TimeUnit.SECONDS);
  }

  private void execute(Runnable task) {
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      // closing: nothing left to do
    }
  }

  // ---- on the loop thread ----------------------------------------------------------------------

  private void localCatalog(Catalog catalog) {
    if (!closed) {
      server.record(catalog);
    }
  }

  /**
   * Loads the stored catalogs: those of peers in the agent state become their starting point
   * (not-ready until their link is observed UP), the others are dropped.
   */
  private void restore() {
    if (store.isEmpty() || closed) {
      return;
    }
    PeerCatalogStore.Loaded loaded;
    try {
      loaded = store.get().load();
    } catch (IOException e) {
      log.warn("peer catalog file unreadable file={} error=\"{}\"; starting without stored catalogs",
          store.get().path(), e.toString());
      return;
    }
    switch (loaded) {
      case PeerCatalogStore.Loaded.Missing missing -> log.info("no stored peer catalogs file={}", store.get().path());
      case PeerCatalogStore.Loaded.Corrupt corrupt -> {
        Counter.builder("meshwire.agent.peer.catalogs.corrupt").tag("reason", corrupt.reason())
            .description("Peer catalog files refused at start (moved aside)").register(meters).increment();
        log.warn("peer catalog file refused, moved aside; starting without stored catalogs file={} moved_to={} reason={}"
            + " problem=\"{}\"", store.get().path(), corrupt.movedTo(), corrupt.reason(), corrupt.problem());
      }
      case PeerCatalogStore.Loaded.Found found -> {
        Map<String, PeerRecord> peers = state.get().peers();
        List<String> dropped = new ArrayList<>();
        for (Map.Entry<String, Catalog> e : new TreeMap<>(found.catalogs()).entrySet()) {
          String peer = e.getKey();
          if (!peers.containsKey(peer)) {
            dropped.add(peer); // left the mesh while this agent was down
            continue;
          }
          catalogs.put(peer, e.getValue());
          gate.restored(peer);
          importer.setSourceReady(peer, false);
          log.info("peer catalog restored peer={} catalog_uid={} revision={} services={}", peer,
              e.getValue().catalogUid(), e.getValue().revision(), e.getValue().services().size());
        }
        log.info("stored peer catalogs loaded restored={} dropped={} written_at={}", gate.restoredCount(), dropped,
            found.writtenAt());
        if (!dropped.isEmpty()) {
          persistSoon();
        }
      }
    }
  }

  private void syncPeers() {
    if (closed) {
      return;
    }
    AgentState s = state.get();
    Map<String, PeerRecord> peers = s.peers();
    ViewTranslator translator = ViewTranslator.of(settings.clusterId(), settings.podCidrs(), s);
    links.sync(peers, translator, peer -> Optional.ofNullable(catalogs.get(peer)));
    // Departed: peers of the last sync, and peers anything is known or imported of, that are no
    // peers now (imports of a peer never delivered since the start go too).
    Set<String> departed = new TreeSet<>(lastPeers);
    departed.addAll(catalogs.keySet());
    departed.addAll(importer.sources());
    departed.removeAll(peers.keySet());
    lastPeers = Set.copyOf(peers.keySet());
    for (String gone : departed) {
      // Removed or revoked through the hub, or no longer allowed by policy (an outage never
      // removes peers from the state): its objects go now, whatever the gate says.
      catalogs.remove(gone);
      gate.forget(gone);
      ready.remove(gone);
      removeImportsOf(gone);
      persistSoon();
    }
    boolean changed = false;
    for (PeerRecord record : peers.values()) {
      Catalog catalog = catalogs.get(record.clusterId());
      if (catalog != null) {
        importer.putSource(record.clusterId(), catalog, translate(translator, record.clusterId())); // views may move
        changed = true;
      }
    }
    exports.remoteCatalogs(catalogs);
    if (changed) {
      reconcileSoon();
    }
  }

  private void removeImportsOf(String peer) {
    try {
      ServiceImporter.Result r = importer.removeSourceNow(peer);
      log.info("import source removed peer={} deleted={} updated={}", peer, r.deleted(), r.updated());
    } catch (KubeApiException | RuntimeException e) {
      // Forgotten already: the next reconcile (once the gate is open) deletes what is left.
      log.warn("import source removed, its objects not yet deleted peer={} error=\"{}\"", peer, e.getMessage());
    }
  }

  private void peerCatalog(String peer, Catalog catalog) {
    if (closed) {
      return;
    }
    if (!links.follows(peer) || !state.get().peers().containsKey(peer)) {
      // A late delivery from a watcher already stopped, or from a peer that left the agent state
      // before reflection heard of it: imports come from current peers only.
      Counter.builder("meshwire.agent.peer.catalogs.ignored").tag("reason", links.follows(peer) ? "not_peer" : "not_followed")
          .description("Catalogs delivered by a peer link after its peer left, not imported").register(meters).increment();
      log.debug("catalog ignored peer={} followed={}", peer, links.follows(peer));
      return;
    }
    catalogs.put(peer, catalog);
    gate.delivered(peer);
    persistSoon();
    importer.putSource(peer, catalog,
        translate(ViewTranslator.of(settings.clusterId(), settings.podCidrs(), state.get()), peer));
    exports.remoteCatalogs(catalogs);
    reconcileSoon();
  }

  /** Hands the current catalogs to the persister, which writes them after {@link #PERSIST_DELAY}. */
  private void persistSoon() {
    persister.ifPresent(p -> p.persistSoon(catalogs));
  }

  private static Function<InetAddress, InetAddress> translate(ViewTranslator translator, String peer) {
    return address -> translator.toLocal(peer, address).orElse(null);
  }

  /** The periodic pass (drift repair), then the next one. */
  private void resync() {
    if (closed) {
      return;
    }
    reconcileSoon();
    delays.after(settings.resync(), () -> execute(this::resync));
  }

  private void reconcileSoon() {
    if (reconcilePending.compareAndSet(false, true)) {
      execute(this::reconcile);
    }
  }

  private void reconcile() {
    reconcilePending.set(false);
    if (closed || !gate.open(crds.served(), links.followed())) {
      return;
    }
    try {
      ServiceImporter.Result r = importer.reconcile();
      if (r.created() + r.updated() + r.deleted() > 0 || !r.converged()) {
        log.info("imports reconciled created={} updated={} deleted={} conflicts={} converged={}", r.created(),
            r.updated(), r.deleted(), r.conflicts(), r.converged());
      }
    } catch (KubeApiException | RuntimeException e) {
      // The periodic pass tries again.
      log.warn("import reconcile failed error=\"{}\"", e.getMessage());
    }
  }

  /** The MCS kinds are served: exports start, imports may follow ({@link ImportGate}). */
  private void crdsServed() {
    if (closed) {
      return;
    }
    exports.start(); // its first rebuild reads the remote catalogs handed over meanwhile
    reconcileSoon();
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    try {
      loop.submit(() -> {
        closed = true;
        links.close();
        server.close();
        return null;
      }).get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("reflection close incomplete error=\"{}\"", e.toString());
    }
    crds.close();
    exports.close();
    loop.shutdownNow();
    persister.ifPresent(CatalogPersister::close); // writes what the delay still held back
  }
}
