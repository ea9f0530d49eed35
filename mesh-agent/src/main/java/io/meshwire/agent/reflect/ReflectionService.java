package io.meshwire.agent.reflect;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;
import io.meshwire.agent.hub.Backoff;
import io.meshwire.agent.ipam.ViewTranslator;
import io.meshwire.agent.peer.PeerCatalogWatcher;
import io.meshwire.agent.peer.PeerServer;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogHistory;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.meshwire.reflection.export.KubeExportWatcher;
import io.meshwire.reflection.imports.KubeApiException;
import io.meshwire.reflection.imports.KubeImportApi;
import io.meshwire.reflection.imports.ServiceImporter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>The peer server starts only once the first local catalog is recorded: before that it would
 * serve an empty catalog, which a peer would take for a mass unexport.
 *
 * <p>Threads: every mutable field below is owned by the private {@code reflection} thread; public
 * methods and callbacks only enqueue work on it, and importer reconciliations run there too
 * (serialized, coalesced). Watcher reconnects run on a second thread ({@code reflection-peers}) so
 * a slow API server never delays them. Thread-safe.
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
   */
  public record Settings(String clusterId, HostPort peerListen, List<Cidr> podCidrs, Duration startupGrace,
      Duration resync, Duration bookmarkInterval, Backoff backoff, KubeExportWatcher.Options export,
      Optional<InetAddress> dialFrom) {

    public Settings {
      podCidrs = List.copyOf(podCidrs);
    }

    /**
     * @param peerChannel the address announced to peers; when it is an address literal, peers'
     *     channels are dialled from it
     */
    public static Settings defaults(String clusterId, HostPort peerListen, List<Cidr> podCidrs,
        Optional<HostPort> peerChannel) {
      return new Settings(clusterId, peerListen, podCidrs, Duration.ofSeconds(60), Duration.ofSeconds(30),
          Duration.ofSeconds(30), Backoff.defaults(), KubeExportWatcher.Options.defaults(),
          peerChannel.flatMap(p -> addressLiteral(p.host())));
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

  private record Link(HostPort address, PeerCatalogWatcher watcher) {}

  private final Settings settings;
  private final TlsCredentials credentials;
  private final Supplier<AgentState> state;
  private final InstantSource clock;
  private final MeterRegistry meters;
  private final Instant started;
  private final CatalogHistory history = new CatalogHistory(Catalog.empty(), 1000);
  private final KubeExportWatcher exports;
  private final ServiceImporter importer;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reflection");
    t.setDaemon(true);
    return t;
  });
  private final ScheduledExecutorService peerTimer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reflection-peers");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean reconcilePending = new AtomicBoolean();
  private volatile int exported;
  // Owned by the loop thread.
  private final Map<String, Link> links = new HashMap<>();
  private final Map<String, Catalog> catalogs = new HashMap<>();
  private final Set<String> delivered = new HashSet<>();
  private final Map<String, Boolean> ready = new HashMap<>();
  private volatile PeerServer server; // written on the loop thread only
  private boolean gateOpen;
  private boolean closed;

  private ReflectionService(Settings settings, ApiClient client, TlsCredentials credentials, Supplier<AgentState> state,
      InstantSource clock, MeterRegistry meters) {
    this.settings = settings;
    this.credentials = credentials;
    this.state = state;
    this.clock = clock;
    this.meters = meters;
    this.started = clock.instant();
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
    s.exports.start();
    s.stateChanged();
    s.loop.schedule(s::reconcileSoon, settings.startupGrace().toMillis(), TimeUnit.MILLISECONDS);
    s.loop.scheduleWithFixedDelay(s::reconcileSoon, settings.resync().toMillis(), settings.resync().toMillis(),
        TimeUnit.MILLISECONDS);
    log.info("reflection started cluster={} peer_listen={} startup_grace={}", settings.clusterId(),
        settings.peerListen(), settings.startupGrace());
    return s;
  }

  /** The {@code kubeconfig} value that means "the cluster this pod runs in". */
  public static final String IN_CLUSTER = "in-cluster";

  /**
   * A client of the API server in {@code kubeconfig} (or of this pod's own cluster for
   * {@value #IN_CLUSTER}), with no read timeout (informers hold long watches).
   */
  public static ApiClient kubeClient(Path kubeconfig) throws IOException {
    if (kubeconfig.toString().equals(IN_CLUSTER)) {
      // Inside a pod: the service account's token and CA, and KUBERNETES_SERVICE_HOST/PORT.
      return ClientBuilder.cluster().setReadTimeout(Duration.ZERO).build();
    }
    try (Reader reader = Files.newBufferedReader(kubeconfig)) {
      KubeConfig config = KubeConfig.loadKubeConfig(reader);
      config.setFile(kubeconfig.toFile()); // relative certificate paths resolve against it
      return ClientBuilder.kubeconfig(config).setReadTimeout(Duration.ZERO).build();
    }
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
      server = PeerServer.start(settings.peerListen(), credentials, settings.clusterId(), history,
          peer -> state.get().peers().containsKey(peer), settings.bookmarkInterval(), clock, meters);
      log.info("peer server listening cluster={} listen={} port={}", settings.clusterId(), settings.peerListen(),
          server.port());
    } catch (IOException e) {
      log.error("peer server cannot listen peer-listen={} error=\"{}\"; retrying in 10s", settings.peerListen(),
          e.getMessage());
      loop.schedule(this::startServer, 10, TimeUnit.SECONDS);
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
        delivered.remove(gone);
        ready.remove(gone);
        importer.removeSource(gone);
        changed = true;
        log.info("import source removed peer={}", gone);
      }
    }
    for (PeerRecord record : peers.values()) {
      String peer = record.clusterId();
      Optional<HostPort> dial = dialAddress(translator, record);
      if (dial.isPresent() && !links.containsKey(peer)) {
        HostPort address = dial.get();
        PeerCatalogWatcher watcher = new PeerCatalogWatcher(peer, address, settings.dialFrom(), credentials, clock,
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
    delivered.add(peer);
    importer.putSource(peer, catalog,
        translate(ViewTranslator.of(settings.clusterId(), settings.podCidrs(), state.get()), peer));
    exports.remoteCatalogs(catalogs);
    reconcileSoon();
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
    if (closed || !gateOpen()) {
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

  private boolean gateOpen() {
    if (gateOpen) {
      return true;
    }
    boolean allDelivered = !links.isEmpty() && delivered.containsAll(links.keySet());
    boolean graceOver = !clock.instant().isBefore(started.plus(settings.startupGrace()));
    if (allDelivered || graceOver) {
      gateOpen = true;
      log.info("import gate open reason={} delivered={} peers={}", allDelivered ? "all_peers_delivered" : "grace_over",
          delivered.size(), links.size());
    }
    return gateOpen;
  }

  @Override
  public void close() {
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
  }
}
