package io.meshwire.agent.reflect;

import io.kubernetes.client.openapi.ApiClient;
import io.meshwire.agent.ipam.ViewTranslator;
import io.meshwire.agent.peer.PeerCatalogWatcher;
import io.meshwire.agent.peer.PeerServer;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.Durations;
import io.meshwire.netaddr.HostPort;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogHistory;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.export.KubeExportWatcher;
import io.meshwire.reflection.imports.KubeApiException;
import io.meshwire.reflection.imports.KubeImportApi;
import io.meshwire.reflection.imports.ServiceImporter;
import io.meshwire.reflection.kube.Mcs;
import io.meshwire.reflection.kube.McsCrds;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
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
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ReflectionService} runs Multi-Cluster Services reflection for the agent: this cluster's
 * exports ({@link KubeExportWatcher}) go into a {@link CatalogHistory} served to peers by a
 * {@link PeerServer}; one {@link PeerCatalogWatcher} per peer with a peer-channel address follows
 * that peer's catalog, and a {@link ServiceImporter} keeps the imported ServiceImports, derived
 * Services and EndpointSlices equal to what those catalogs call for, with endpoint addresses
 * rewritten to how this cluster reaches them ({@link ViewTranslator#toLocal}).
 *
 * <p>What removes imported objects: only a peer leaving the agent state (the hub removed or
 * revoked it) and a peer's catalog no longer holding a service. A peer whose tunnel is down keeps
 * its objects, its endpoints turned not-ready ({@link #linksObserved}); losing the hub changes
 * nothing here, since the state keeps its peers meanwhile.
 *
 * <p>Startup gate: imports are not reconciled until every peer with a peer-channel address has
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
 * <p>Nothing starts (no informer, no import) until the API server serves the MCS kinds: a cluster
 * without the CRDs gets one warning and a gauge, and reflection begins when they appear
 * ({@link #startExportsWhenServed}).
 *
 * <p>The peer server starts only once the first local catalog is recorded: before that it would
 * serve an empty catalog, which a peer would take for a mass unexport.
 *
 * <p>Threads: every mutable field below is owned by the private {@code reflection} thread; public
 * methods and callbacks only enqueue work on it, and importer reconciliations run there too
 * (serialized, coalesced). Watcher reconnects run on a second thread ({@code reflection-peers}) so
 * a slow API server never delays them; catalog file writes (fsync) on the {@link CatalogPersister}'s
 * own thread. The import gate's decision is {@link ImportGate}'s. Thread-safe.
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

  private record Link(HostPort address, PeerCatalogWatcher watcher) {}

  private final Settings settings;
  private final RenewableKeyManager keys;
  private final Supplier<AgentState> state;
  private final InstantSource clock;
  private final MeterRegistry meters;
  private final CatalogHistory history = new CatalogHistory(Catalog.empty(), 1000);
  private final KubeExportWatcher exports;
  private final ServiceImporter importer;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reflection");
    t.setDaemon(true);
    return t;
  });
  private final ExecutorService crdProbe = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "reflection-crds");
    t.setDaemon(true);
    return t;
  });
  private final ScheduledExecutorService peerTimer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reflection-peers");
    t.setDaemon(true);
    return t;
  });
  private final Optional<PeerCatalogStore> store;
  private final Optional<CatalogPersister> persister;
  private final AtomicBoolean reconcilePending = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile int exported;
  // Owned by the loop thread.
  private final Map<String, Link> links = new HashMap<>();
  private final Map<String, Catalog> catalogs = new HashMap<>();
  private final ImportGate gate;
  private final Map<String, Boolean> ready = new HashMap<>();
  private volatile PeerServer server; // written on the loop thread only
  private boolean closed;
  private final ApiClient client;
  private final AtomicInteger crdsMissing = new AtomicInteger();
  private boolean crdsServed; // owned by the loop thread
  private boolean crdsReported;

  private ReflectionService(Settings settings, ApiClient client, TlsCredentials credentials, Supplier<AgentState> state,
      InstantSource clock, MeterRegistry meters) {
    this.settings = settings;
    this.keys = new RenewableKeyManager(credentials);
    this.state = state;
    this.clock = clock;
    this.meters = meters;
    this.gate = new ImportGate(clock, settings.startupGrace());
    this.store = settings.stateDir().map(dir -> new PeerCatalogStore(dir, CatalogLimits.defaults(), clock));
    this.persister = store.map(st -> new CatalogPersister(st, PERSIST_DELAY, PERSIST_RETRY, meters));
    this.client = client;
    Gauge.builder("meshwire.agent.reflection.crds.missing", crdsMissing, AtomicInteger::get)
        .description("1 while the API server does not serve the Multi-Cluster Services CRDs (reflection waits)")
        .register(meters);
    this.importer = new ServiceImporter(new KubeImportApi(client));
    this.exports = new KubeExportWatcher(client, settings.clusterId(), settings.export(), clock,
        c -> loop.execute(() -> localCatalog(c)));
  }

  /**
   * Starts watching exports, peers and links; the peer server follows the first local catalog.
   *
   * @param state the agent's current state (peers, views), read on every {@link #stateChanged}
   */
  public static ReflectionService start(Settings settings, ApiClient client, TlsCredentials credentials,
      Supplier<AgentState> state, InstantSource clock, MeterRegistry meters) {
    ReflectionService s = new ReflectionService(settings, client, credentials, state, clock, meters);
    s.execute(s::startExportsWhenServed);
    s.execute(s::restore); // first on the loop: the watchers syncPeers starts resume from it
    s.stateChanged();
    s.loop.schedule(s::reconcileSoon, settings.startupGrace().toMillis(), TimeUnit.MILLISECONDS);
    s.loop.scheduleWithFixedDelay(s::reconcileSoon, settings.resync().toMillis(), settings.resync().toMillis(),
        TimeUnit.MILLISECONDS);
    log.info("reflection started cluster={} peer_listen={} startup_grace={} catalog_file={}", settings.clusterId(),
        settings.peerListen(), settings.startupGrace(), s.store.map(PeerCatalogStore::path).orElse(null));
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
    return "{\"exported\":" + exported + ",\"sources\":" + importer.sources().size() + "}";
  }

  /** The peer server's port once it listens (useful with port 0). */
  public Optional<Integer> peerPort() {
    PeerServer s = server;
    return s == null ? Optional.empty() : Optional.of(s.port());
  }

  private void execute(Runnable task) {
    try {
      loop.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing: nothing left to do
    }
  }

  // ---- on the loop thread ----------------------------------------------------------------------

  private void localCatalog(Catalog catalog) {
    history.record(catalog);
    exported = catalog.services().size();
    startServer();
  }

  private void startServer() {
    if (server != null || closed) {
      return;
    }
    try {
      server = PeerServer.start(settings.peerListen(), keys, settings.clusterId(), history,
          peer -> state.get().peers().containsKey(peer), settings.bookmarkInterval(), clock, meters);
      log.info("peer server listening cluster={} listen={} port={}", settings.clusterId(), settings.peerListen(),
          server.port());
    } catch (IOException e) {
      log.error("peer server cannot listen peer-listen={} error=\"{}\"; retrying in 10s", settings.peerListen(),
          e.getMessage());
      loop.schedule(this::startServer, 10, TimeUnit.SECONDS);
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
    boolean changed = false;
    for (String peer : List.copyOf(links.keySet())) {
      PeerRecord record = peers.get(peer);
      Optional<HostPort> address = record == null ? Optional.empty() : dialAddress(translator, record);
      if (address.isEmpty() || !address.get().equals(links.get(peer).address())) {
        links.remove(peer).watcher().close();
      }
    }
    for (String gone : List.copyOf(catalogs.keySet())) {
      if (!peers.containsKey(gone)) {
        // Removed or revoked through the hub (an outage never removes peers from the state).
        catalogs.remove(gone);
        gate.forget(gone);
        ready.remove(gone);
        importer.removeSource(gone);
        persistSoon();
        changed = true;
        log.info("import source removed peer={}", gone);
      }
    }
    for (PeerRecord record : peers.values()) {
      String peer = record.clusterId();
      Optional<HostPort> dial = dialAddress(translator, record);
      if (dial.isPresent() && !links.containsKey(peer)) {
        HostPort address = dial.get();
        PeerCatalogWatcher watcher = new PeerCatalogWatcher(peer, address, settings.dialFrom(), keys, clock,
            settings.backoff(),
            peerTimer, CatalogLimits.defaults(), meters, Optional.ofNullable(catalogs.get(peer)),
            (p, c) -> execute(() -> peerCatalog(p, c)));
        links.put(peer, new Link(address, watcher));
        watcher.start();
        log.info("following peer catalog peer={} address={}", peer, address);
      }
      Catalog catalog = catalogs.get(peer);
      if (catalog != null) {
        importer.putSource(peer, catalog, translate(translator, peer)); // the views may have moved
        changed = true;
      }
    }
    exports.remoteCatalogs(catalogs);
    if (changed) {
      reconcileSoon();
    }
  }

  private void peerCatalog(String peer, Catalog catalog) {
    if (closed || !links.containsKey(peer)) {
      return; // a late delivery from a watcher already stopped
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

  private void reconcileSoon() {
    if (reconcilePending.compareAndSet(false, true)) {
      execute(this::reconcile);
    }
  }

  private void reconcile() {
    reconcilePending.set(false);
    if (closed || !gate.open(crdsServed, links.keySet())) {
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

  /**
   * Starts the export informers once the API server serves the MCS kinds ({@link McsCrds}); until
   * then checks again every {@code resync}, with one warning (not an error per second from the
   * informers) and {@code meshwire_agent_reflection_crds_missing} 1. Imports wait too
   * ({@link ImportGate}). Tunnels are not affected.
   */
  private void startExportsWhenServed() {
    // The check runs on its own thread: the client has no read timeout (informers need that), and
    // an API server that accepts but never answers must not stall restore, peers or readiness.
    crdProbe.execute(() -> {
      McsCrds.Served served = McsCrds.check(client);
      execute(() -> crdsChecked(served));
    });
  }

  private void crdsChecked(McsCrds.Served served) {
    if (closed || crdsServed) {
      return;
    }
    if (served instanceof McsCrds.Served.Yes) {
      crdsServed = true;
      crdsMissing.set(0);
      if (crdsReported) {
        log.info("reflection resumes: the Multi-Cluster Services CRDs are served now");
      }
      exports.start(); // its first rebuild reads the remote catalogs handed over meanwhile
      reconcileSoon();
      return;
    }
    crdsMissing.set(1);
    String why = served instanceof McsCrds.Served.Missing m
        ? "the API server does not serve " + String.join(", ", m.kinds())
            + ": install the Multi-Cluster Services CRDs (" + Mcs.API_VERSION + "; Helm: crds.install=true)"
        : "cannot tell whether the Multi-Cluster Services CRDs are served: " + ((McsCrds.Served.Unknown) served).reason();
    if (!crdsReported) {
      log.warn("reflection waiting: {}; checking every {}", why, Durations.format(settings.resync()));
      crdsReported = true;
    } else {
      log.debug("reflection still waiting: {}", why);
    }
    loop.schedule(this::startExportsWhenServed, settings.resync().toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    try {
      loop.submit(() -> {
        closed = true;
        links.values().forEach(l -> l.watcher().close());
        links.clear();
        if (server != null) {
          server.close();
        }
        return null;
      }).get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("reflection close incomplete error=\"{}\"", e.toString());
    }
    exports.close();
    loop.shutdownNow();
    peerTimer.shutdownNow();
    crdProbe.shutdownNow();
    persister.ifPresent(CatalogPersister::close); // writes what the delay still held back
  }
}
