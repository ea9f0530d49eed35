package io.meshwire.agent;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.kubernetes.client.openapi.ApiClient;
import io.meshwire.agent.config.AgentConfig;
import io.meshwire.agent.exec.ProcessCommandRunner;
import io.meshwire.agent.hub.HubClient;
import io.meshwire.agent.hub.HubSession;
import io.meshwire.agent.hub.HubState;
import io.meshwire.agent.hub.OwnRecord;
import io.meshwire.agent.identity.ClusterIdentity;
import io.meshwire.agent.identity.Rejoin;
import io.meshwire.agent.ipam.IpamSettings;
import io.meshwire.agent.ipam.ViewChecks;
import io.meshwire.agent.ipam.ViewDecisions;
import io.meshwire.agent.ipam.ViewPublisher;
import io.meshwire.agent.nat.Nat;
import io.meshwire.agent.nat.TunnelSourceFilter;
import io.meshwire.agent.path.DirectProber;
import io.meshwire.agent.path.KnownRelays;
import io.meshwire.agent.path.PathLoop;
import io.meshwire.agent.path.PathPolicy;
import io.meshwire.agent.path.PathSelector;
import io.meshwire.agent.path.PathStateFile;
import io.meshwire.agent.path.SavedPaths;
import io.meshwire.agent.reconcile.ObserveOnly;
import io.meshwire.agent.reconcile.Reconciler;
import io.meshwire.agent.reconcile.SystemResolver;
import io.meshwire.agent.reflect.ReflectionService;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.BootState;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.status.AgentHttp;
import io.meshwire.agent.status.LinkMonitor;
import io.meshwire.agent.status.StatusJson;
import io.meshwire.agent.status.StatusReporter;
import io.meshwire.agent.sync.CarriedPeers;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.agent.wireguard.DataPlane;
import io.meshwire.agent.wireguard.EndpointFile;
import io.meshwire.agent.wireguard.EndpointFollower;
import io.meshwire.agent.wireguard.EndpointSource;
import io.meshwire.agent.wireguard.GatewaySysctls;
import io.meshwire.agent.wireguard.InterfaceClaim;
import io.meshwire.agent.wireguard.IpRoutes;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.agent.wireguard.WgPeer;
import io.meshwire.agent.wireguard.WgToolsWireGuard;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import io.meshwire.observability.MetricsListener;
import io.meshwire.reflection.kube.KubeClients;
import io.meshwire.relay.RelayTls;
import io.meshwire.relay.client.RelayBridge;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Agent} wires one cluster's mesh agent together: the only place that builds the real
 * drivers (processes, WireGuard tools, NAT, gRPC hub client, Kubernetes client), executors and
 * threads. It loads the last-known state and applies it before anything else (so a restart with
 * the hub down restores the tunnels), then starts the {@link HubSession} (which enrolls or renews
 * through the {@link ClusterIdentity}), the {@link StatusReporter} and, with a kubeconfig,
 * {@link ReflectionService}.
 *
 * <p>Threads: the hub session on one virtual thread; reconcile passes on the reconciler's thread;
 * view publication on its own; link observation and the hourly renewal check on the status timer.
 * Shared state lives in {@link MeshSync}.
 */
public final class Agent implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  public static final String VERSION = Optional.ofNullable(Agent.class.getPackage().getImplementationVersion())
      .orElse("dev");

  private final AgentConfig config;
  private final InstantSource clock;
  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final WgToolsWireGuard wireGuard;
  private final Reconciler reconciler;
  private final MeshSync sync;
  private final ViewDecisions viewDecisions;
  private final ViewPublisher viewPublisher;
  private final Nat nat;
  private final Optional<TunnelSourceFilter> sourceFilter;
  private final ScheduledExecutorService timer = daemonExecutor("agent-status");
  private final ClusterIdentity identity;
  private final HubSession session;
  private final StatusReporter status;
  private final Optional<String> stateProblem;
  private final StateFile stateFile;
  /** The hub's relay list, persisted in paths.bin with each link's path. */
  private final KnownRelays relays;
  private final PathSelector pathSelector;
  private final PathLoop paths;
  private final PathStateFile pathFile;
  private final Optional<DirectProber> prober;
  // Path selection on its own timer: a slow hub report or reconcile pass must not delay a switch.
  private final ScheduledExecutorService pathTimer = daemonExecutor("agent-paths");
  /** The relay side; null until the cluster certificate exists (then no link is relayed). */
  private volatile RelayBridge bridge;
  private volatile RenewableKeyManager relayKeys;
  private final InterfaceClaim interfaceClaim;
  private final GatewaySysctls gateway;
  private final EndpointSource endpoints;
  // Its own thread: the status timer can block up to a call deadline on a hub connection that went
  // with the old address, exactly when a moved endpoint must be announced.
  private final ScheduledExecutorService endpointTimer = daemonExecutor("agent-endpoints");
  // Multi-Cluster Services reflection: empty without kubeconfig; null until the cluster certificate exists.
  private final Optional<ApiClient> kube;
  private volatile ReflectionService reflection;
  private volatile boolean running = true;
  private MetricsListener http;
  /** The mesh UID the agent had when a rejoin was marked, until it adopted another one. */
  private volatile Optional<String> rejoinFrom = Optional.empty();
  /** Released to end the hub session's pause at once (a rejoin replaced the credentials). */
  private final Semaphore sessionWakeup = new Semaphore(0);

  private Agent(AgentConfig config, InstantSource clock, BootState boot, StateFile file, Optional<ApiClient> kube,
      ProcessCommandRunner runner, WgToolsWireGuard wireGuard, InterfaceClaim interfaceClaim, PathStateFile pathFile,
      SavedPaths savedPaths, boolean rejoined) {
    this.config = config;
    this.clock = clock;
    this.kube = kube;
    this.stateProblem = boot.problem();
    this.stateFile = file;
    this.interfaceClaim = interfaceClaim;
    this.gateway = GatewaySysctls.host(config.interfaceName(), config.podCidrs().stream().anyMatch(c -> !c.isIpv4()),
        !config.remapPools().isEmpty());
    AgentState initial = boot.state();
    this.wireGuard = wireGuard;
    AtomicReference<Reconciler> reconcilerRef = new AtomicReference<>();
    if (rejoined) {
      rejoinFrom = Optional.of(initial.meshUid());
    }
    CarriedPeers carried = CarriedPeers.load(config.stateDir().resolve("carried-peers"), clock,
        config.rejoinCarry(), initial.meshUid());
    this.sync = new MeshSync(config.clusterId(), initial, file, config.acceptHubState() || rejoined, s -> {
      rejoinFrom.ifPresent(from -> {
        if (Rejoin.adopted(config.stateDir(), from, s)) {
          rejoinFrom = Optional.empty();
        }
      });
      Reconciler r = reconcilerRef.get();
      if (r != null) {
        r.trigger();
      }
      ReflectionService reflect = reflection;
      if (reflect != null) {
        reflect.stateChanged();
      }
    }, v -> ViewChecks.problemAsViewOfMe(v, config.podCidrs()), carried);
    this.pathFile = pathFile;
    this.pathSelector = new PathSelector(config.pathPolicy(), meters);
    this.relays = new KnownRelays(pathFile, savedPaths.relays(), pathSelector::save);
    sync.onRelays(relays);
    this.prober = startProber(config, clock);
    // Without usable state, leave the data plane the previous agent left until the hub caught up.
    ObserveOnly observeOnly = boot.unusable().map(why -> ObserveOnly.until(why, sync::caughtUp))
        .orElse(ObserveOnly.off());
    Backoff backoff = Backoff.defaults();
    CircuitBreaker breaker = HubSession.newBreaker();
    this.identity = new ClusterIdentity(config.stateDir(), config.clusterId(), config.joinToken(), config.hubCa(),
        clock, (ca, mesh, cluster, token) -> HubClient.enroll(config.hubs(), ca, mesh, cluster, token, clock),
        creds -> new HubClient(config.hubs(), creds, clock), this::credentialsReady, renewed -> {
          ReflectionService reflect = reflection;
          if (reflect != null) {
            reflect.useCredentials(renewed); // new peer connections only; established streams stay up
          }
          RenewableKeyManager keys = relayKeys;
          if (keys != null) {
            keys.use(renewed); // relay connections: at their next handshake
          }
        });
    OwnRecord own = new OwnRecord(config.clusterId(), config.listenPort(), config.endpoints(), config.podCidrs(),
        config.serviceCidrs(), config.peerChannel(), VERSION, config.probePort());
    AtomicReference<HubSession> sessionRef = new AtomicReference<>();
    this.nat = Nat.forHost(runner);
    this.viewPublisher = new ViewPublisher(sync,
        () -> sessionRef.get().connectedHub().map(c -> (ViewPublisher.Hub) c::publishViews),
        clock, daemonExecutor("agent-views"), backoff, meters);
    this.endpoints = config.endpointFile().<EndpointSource>map(f -> new EndpointFile(f, config.endpoints()))
        .orElseGet(() -> new EndpointFollower(config.endpoints(), EndpointFollower.Addresses.host()));
    this.session = new HubSession(identity, sync, s -> own.withEndpoints(endpoints.endpoints()).toProto(s),
        viewPublisher::trigger, backoff, breaker,
        delay -> sessionWakeup.tryAcquire(delay.toMillis(), TimeUnit.MILLISECONDS), clock);
    sessionRef.set(session);
    // The tunnel address is routed here too: no peer may be seen as it.
    List<Cidr> reserved = Stream.concat(config.reservedCidrs().stream(), config.interfaceAddress().stream()).toList();
    this.viewDecisions = new ViewDecisions(config.clusterId(), new IpamSettings(config.podCidrs(),
        config.serviceCidrs(), reserved, config.remapPools()), sync, clock, meters, viewPublisher::trigger);
    this.reconciler = new Reconciler(
        new Reconciler.Interface(config.interfaceName(), config.listenPort(), config.interfaceAddress(),
            config.persistentKeepalive()),
        wireGuard, new DataPlane(wireGuard, new IpRoutes(runner)),
        Optional.of(new Reconciler.Remapping(viewDecisions, nat, config.podCidrs())), observeOnly, sync::state,
        daemonExecutor("agent-reconcile"), config.reconcileInterval(), meters, new SystemResolver(meters));
    this.sourceFilter = TunnelSourceFilter.forHost(runner);
    sourceFilter.ifPresent(reconciler::filterSources);
    reconcilerRef.set(reconciler);
    this.paths = new PathLoop(pathSelector,
        new PathLoop.Sources(() -> sync.state().peers(), () -> wireGuard.show(config.interfaceName()),
            relays::current, Agent::resolve),
        (target, timeout) -> prober.map(p -> p.probe(target, timeout))
            .orElse(java.util.concurrent.CompletableFuture.completedFuture(false)),
        (peer, endpoint) -> wireGuard.setPeer(config.interfaceName(),
            new WgPeer(peer.publicKey(), Optional.of(endpoint), peer.allowedIps(), peer.persistentKeepalive())),
        savedPaths, this::savePaths, reconciler::trigger, clock, Duration.ofSeconds(1));
    reconciler.overrideEndpoints(paths::overrides);
    this.status = new StatusReporter(
        new LinkMonitor(wireGuard, config.interfaceName(), config.linkDownAfter(), sync::state, clock),
        session::connectedHub, breaker, clock, this::linksObserved, pathSelector::current, meters);
    registerMetrics();
  }

  private static WgToolsWireGuard.Config wireGuardConfig(AgentConfig config) {
    WgToolsWireGuard.Backend backend = switch (config.wireguard()) {
      case "kernel" -> WgToolsWireGuard.Backend.KERNEL;
      case "userspace" -> WgToolsWireGuard.Backend.USERSPACE;
      default -> WgToolsWireGuard.Backend.AUTO;
    };
    // wireguard-go's output goes next to the state: the data plane must not hold a pipe to this JVM.
    return WgToolsWireGuard.Config.defaults().withBackend(backend).withOutputDir(config.stateDir());
  }

  private static ScheduledExecutorService daemonExecutor(String name) {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Starts the agent: state loaded and applied (before any hub contact), then the hub session and
   * the status loop in the background.
   */
  public static Agent start(AgentConfig config, InstantSource clock) throws IOException {
    Files.createDirectories(config.stateDir());
    boolean rejoined = Rejoin.prepare(config.stateDir()); // before the credentials are read
    // A missing join token or hub CA fails the start, not every later session.
    ClusterIdentity.checkConfigured(config.stateDir(), config.joinToken(), config.hubCa());
    ProcessCommandRunner runner = new ProcessCommandRunner();
    WgToolsWireGuard wireGuard = new WgToolsWireGuard(runner, wireGuardConfig(config));
    // One agent per interface name on this host, before anything reads or changes the interface.
    InterfaceClaim claim = InterfaceClaim.claim(InterfaceClaim.DEFAULT_DIR, config.interfaceName(), config.clusterId(),
        config.stateDir(), () -> wireGuard.serves(config.interfaceName()));
    // During a rejoin the file still records the mesh being left (the new credentials name the new
    // one): load it whatever its mesh, and save it as the new mesh's from then on.
    StateFile.Identity stateIdentity = new StateFile.Identity(config.clusterId(), meshOf(config));
    StateFile file = new StateFile(config.stateDir().resolve("state.bin"), clock,
        rejoined ? new StateFile.Identity(config.clusterId(), "") : stateIdentity);
    BootState boot;
    Optional<ApiClient> kube;
    PathStateFile pathFile;
    SavedPaths savedPaths;
    try {
      // Without usable state: keep the serving interface's key (and leave its data plane alone, above).
      boot = BootState.load(file, () -> wireGuard.runningPrivateKey(config.interfaceName()));
      file.rebind(stateIdentity);
      // A bad kubeconfig fails the start, not some later hub session.
      kube = config.kubeconfig().isEmpty() ? Optional.empty()
          : Optional.of(KubeClients.fromKubeconfig(config.kubeconfig().get()));
      // The relays the hub listed last, so a restart during a hub outage still knows them.
      pathFile = new PathStateFile(config.stateDir().resolve("paths.bin"), clock);
      savedPaths = pathFile.load() instanceof PathStateFile.Loaded.Found found ? found.paths() : SavedPaths.EMPTY;
    } catch (IOException | RuntimeException e) {
      claim.close();
      throw e;
    }
    AgentState initial = boot.state();
    Agent agent = new Agent(config, clock, boot, file, kube, runner, wireGuard, claim, pathFile, savedPaths, rejoined);
    // Relayed links back on their bridge sockets before the first pass (a restart during a hub outage).
    // Without a saved relayed link nothing needs the relay side before READY: it starts on the path
    // timer, before its first tick (its TLS context loads the native TLS library: 0.6 s of the start
    // median in bench agent).
    Runnable relaySide = () -> {
      agent.identity.stored().ifPresent(agent::startRelaying);
      agent.paths.restore();
    };
    if (savedPaths.links().values().stream().anyMatch(l -> l.path() == io.meshwire.agent.path.Path.RELAYED)) {
      relaySide.run();
    } else {
      agent.pathTimer.execute(() -> {
        try {
          relaySide.run();
        } catch (RuntimeException e) {
          log.error("event=relay_start_failed error=\"{}\"; links stay direct", e.getMessage());
        }
      });
    }
    long started = System.nanoTime();
    try {
      agent.reconciler.reconcileNow();
      log.info("state applied peers={} revision={} took_ms={}", initial.peers().size(), initial.revision(),
          (System.nanoTime() - started) / 1_000_000);
    } catch (RuntimeException e) {
      log.error("applying the persisted state failed error=\"{}\"; retrying in the background", e.getMessage());
      agent.reconciler.trigger();
    }
    config.metricsListen().ifPresent(listen ->
        agent.http = AgentHttp.start(listen, agent.meters, agent::statusJson, agent.reconciler::applied));
    agent.timer.scheduleWithFixedDelay(agent.status::observe, 0, config.statusInterval().toMillis(),
        TimeUnit.MILLISECONDS);
    // Forwarding and rp_filter: checked (and set where allowed) at start, then again in case someone resets them.
    agent.timer.scheduleWithFixedDelay(agent.gateway::check, 0, 30, TimeUnit.SECONDS);
    // A moved gateway address is announced within seconds, not left to WireGuard roaming.
    agent.endpointTimer.scheduleWithFixedDelay(agent::followEndpoints, 2, 2, TimeUnit.SECONDS);
    // `meshwire agent rejoin` while this agent runs: adopt the new mesh without a restart.
    agent.timer.scheduleWithFixedDelay(agent::checkRejoin, 1, 1, TimeUnit.SECONDS);
    // A session can outlive 2/3 of the certificate's lifetime: check renewal hourly, not only on connect.
    agent.timer.scheduleWithFixedDelay(() -> agent.session.connectedHub().ifPresent(agent.identity::renewInBackground),
        1, 1, TimeUnit.HOURS);
    agent.pathTimer.scheduleWithFixedDelay(agent::pathTick, 1, 1, TimeUnit.SECONDS);
    agent.identity.stored().ifPresent(agent::startReflection); // else once enrolled
    Thread.ofVirtual().name("agent-hub-session").start(agent.session);
    return agent;
  }

  private void followEndpoints() {
    try {
      if (endpoints.check()) {
        session.reannounce();
      }
    } catch (RuntimeException e) {
      log.warn("endpoint check failed error=\"{}\"", e.getMessage());
    }
  }

  /**
   * Acts on a rejoin marked while this agent runs: the next hub state is adopted although its mesh
   * UID differs, and the hub session reconnects now with the new credentials (no restart, tunnels
   * untouched). Also drops the peers carried from the old mesh once their grace period is over.
   */
  private void checkRejoin() {
    try {
      sync.expireCarried();
      if (rejoinFrom.isPresent() || !Rejoin.marked(config.stateDir())) {
        return;
      }
      rejoinFrom = Optional.of(sync.state().meshUid());
      log.warn("rejoin: credentials replaced while running; adopting the new hub's mesh once dir={}",
          config.stateDir());
      sync.acceptNextMesh();
      stateFile.rebind(new StateFile.Identity(config.clusterId(), meshOf(config))); // saves record the new mesh
      identity.reset(); // the next connect reads the new credential set
      identity.stored().ifPresent(creds -> {
        ReflectionService reflect = reflection;
        if (reflect != null) {
          reflect.useCredentials(creds);
        }
      });
      sessionWakeup.drainPermits();
      sessionWakeup.release();
    } catch (RuntimeException e) {
      log.warn("rejoin check failed error=\"{}\"", e.getMessage());
    }
  }

  /** The mesh (trust domain) of the CA this agent trusts: from its state dir, else from hub-ca; "" before either. */
  private static String meshOf(AgentConfig config) {
    Path ca = config.stateDir().resolve("ca.crt");
    Optional<Path> source = Files.exists(ca) ? Optional.of(ca) : config.hubCa().filter(Files::exists);
    return source.map(p -> MeshCa.meshOf(Pem.readCertificate(p))).orElse("");
  }

  private void registerMetrics() {
    Gauge.builder("meshwire.agent.peers", sync, s -> s.state().peers().size()).register(meters);
    Gauge.builder("meshwire.agent.peers.carried", sync, s -> s.carried().size())
        .description("Peers kept from the previous mesh after a rejoin until they announce in the new one")
        .register(meters);
    Gauge.builder("meshwire.agent.peers.up", status,
        r -> r.lastLinks().stream().filter(p -> p.health() == LinkHealth.UP).count()).register(meters);
    Gauge.builder("meshwire.agent.hub.connected", session, s -> s.connected() ? 1 : 0).register(meters);
    Gauge.builder("meshwire.agent.hub.refused", session, s -> s.state().condition().held() ? 1 : 0)
        .description("1 while the hub refuses this agent (revoked, expired certificate, spent join token):"
            + " it stopped retrying at back-off pace").register(meters);
    Gauge.builder("meshwire.agent.hub.revoked", session,
        s -> s.state().condition() == HubState.Condition.REVOKED ? 1 : 0)
        .description("1 once the hub revoked this cluster's certificate: the session stopped").register(meters);
    FunctionCounter.builder("meshwire.agent.hub.session.failures", session, HubSession::failures)
        .description("Hub session attempts that failed or ended").register(meters);
    Gauge.builder("meshwire.agent.state.age", sync,
        s -> Duration.between(s.state().writtenAt(), clock.instant()).toMillis() / 1000.0)
        .baseUnit("seconds").description("Age of the last-known state file").register(meters);
    Gauge.builder("meshwire.agent.sync.held", sync, s -> s.held().isPresent() ? 1 : 0)
        .description("1 while the agent refuses the hub's state (mesh_uid changed or mass removal)").register(meters);
    Gauge.builder("meshwire.agent.state.corrupt", this, a -> a.stateProblem.isPresent() ? 1 : 0).register(meters);
    Gauge.builder("meshwire.agent.gateway.problems", gateway, g -> g.problems().size())
        .description("Kernel settings the gateway needs that are wrong (IP forwarding, rp_filter); see /status")
        .register(meters);
    Gauge.builder("meshwire.agent.dataplane.observe_only", reconciler, r -> r.observeOnly().isPresent() ? 1 : 0)
        .description("1 while the agent leaves the data plane as it found it (no authoritative state yet)")
        .register(meters);
    Gauge.builder("meshwire.agent.hub.events.malformed", sync, MeshSync::malformedEvents).register(meters);
    FunctionCounter.builder("meshwire.agent.views.rejected", sync, MeshSync::rejectedViews)
        .description("Views of this cluster refused (wrong size, or not of its pod CIDRs)").register(meters);
  }

  private void credentialsReady(TlsCredentials creds) {
    startRelaying(creds);
    startReflection(creds);
  }

  /**
   * Starts the relay side once: the bridge connects to this cluster's home relay (from the hub's
   * list) with the cluster certificate, and path selection may then move links onto it.
   */
  private synchronized void startRelaying(TlsCredentials creds) {
    if (bridge != null || !running) {
      return;
    }
    relayKeys = new RenewableKeyManager(creds);
    RelayBridge b = new RelayBridge(config.clusterId(), RelayTls.client(relayKeys, clock),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), config.listenPort()), 4 * 1024 * 1024,
        Duration.ofSeconds(10), config.relayIdleClose());
    b.acceptFrom(peer -> sync.state().peers().containsKey(peer));
    bridge = b;
    paths.relaying(new PathLoop.Relaying() {
      @Override
      public void relays(List<HostPort> list) {
        b.relays(list);
      }

      @Override
      public boolean canReach(String peer) {
        return b.canReach(peer);
      }

      @Override
      public void connectTo(String peer) {
        b.connectTo(peer);
      }

      @Override
      public InetSocketAddress open(String peer) {
        return b.open(peer);
      }

      @Override
      public Optional<InetSocketAddress> socket(String peer) {
        return b.socket(peer);
      }

      @Override
      public void close(String peer) {
        b.close(peer);
      }
    });
    FunctionCounter.builder("meshwire.agent.relay.datagrams.out", b, x -> x.stats().relayedOut())
        .description("WireGuard datagrams sent to peers through relays").register(meters);
    FunctionCounter.builder("meshwire.agent.relay.datagrams.in", b, x -> x.stats().relayedIn())
        .description("WireGuard datagrams received from peers through relays").register(meters);
    FunctionCounter.builder("meshwire.agent.relay.drops", b, x -> x.stats().droppedNoSocket())
        .tag("reason", "no_socket").description("Relayed datagrams dropped by the agent's bridge").register(meters);
    FunctionCounter.builder("meshwire.agent.relay.drops", b, x -> x.stats().droppedNoRelay())
        .tag("reason", "no_relay").description("Relayed datagrams dropped by the agent's bridge").register(meters);
    FunctionCounter.builder("meshwire.agent.relay.drops", b, x -> x.stats().droppedCongested())
        .tag("reason", "congested").description("Relayed datagrams dropped by the agent's bridge").register(meters);
    FunctionCounter.builder("meshwire.agent.relay.idle.closed", b, RelayBridge::closedIdle)
        .description("Connections to peers' home relays closed after --relay-idle-close without traffic")
        .register(meters);
    Gauge.builder("meshwire.agent.relay.home.connected", b, x -> x.stats().homeConnected() ? 1 : 0)
        .description("1 while this cluster's home relay connection is up").register(meters);
  }

  /** Path timer only: the last tick's failure, so a lasting one is logged once, not every second. */
  private String pathProblem;

  private void pathTick() {
    try {
      paths.tick();
      if (pathProblem != null) {
        log.info("event=path_tick_works_again");
        pathProblem = null;
      }
    } catch (RuntimeException e) {
      String problem = String.valueOf(e.getMessage());
      if (!problem.equals(pathProblem)) {
        log.warn("event=path_tick_failed error=\"{}\"", problem);
      }
      pathProblem = problem;
    }
  }

  private void savePaths(SavedPaths saved) {
    try {
      pathFile.save(saved);
    } catch (IOException e) {
      log.warn("event=paths_not_saved error=\"{}\" (kept in memory, written at the next switch)", e.getMessage());
    }
  }

  /** The probe port (announced to peers) answers their direct probes; without it relayed links never upgrade. */
  private static Optional<DirectProber> startProber(AgentConfig config, InstantSource clock) {
    int port = config.probePort();
    try {
      return Optional.of(DirectProber.start(new InetSocketAddress(port), config.clusterId(), clock, 200));
    } catch (IOException e) {
      log.error("event=probe_port_unavailable port={} error=\"{}\" (relayed links will not return to direct)",
          port, e.getMessage());
      return Optional.empty();
    }
  }

  private static Optional<InetSocketAddress> resolve(HostPort hp) {
    try {
      return Optional.of(new InetSocketAddress(InetAddress.getByName(hp.host()), hp.port()));
    } catch (java.net.UnknownHostException e) {
      return Optional.empty();
    }
  }

  /** Starts reflection once, when configured; the peer channel needs the cluster certificate. */
  private synchronized void startReflection(TlsCredentials creds) {
    if (kube.isEmpty() || reflection != null || !running) {
      return;
    }
    reflection = ReflectionService.start(
        ReflectionService.Settings.defaults(config.clusterId(), config.peerListen().orElseThrow(), config.podCidrs(),
            localSource(config.peerChannel()))
            .withStateDir(config.stateDir()), // peer catalogs survive restarts next to the state file
        kube.get(), creds, sync::state, clock, meters);
  }

  /**
   * The announced peer-channel address when it is an address literal on one of this host's
   * interfaces: only then can connections start from it. Any other (a Service address, another
   * pod's) is left to the kernel's choice of source, with a warning.
   */
  private static Optional<InetAddress> localSource(Optional<HostPort> peerChannel) {
    Optional<InetAddress> literal = peerChannel.flatMap(p -> {
      try {
        return Optional.of(Cidr.parseAddress(p.host()));
      } catch (IllegalArgumentException aName) {
        return Optional.empty();
      }
    });
    if (literal.isEmpty()) {
      return literal;
    }
    try {
      if (NetworkInterface.getByInetAddress(literal.get()) != null) {
        return literal;
      }
    } catch (SocketException e) {
      // treated as not local
    }
    log.warn("peer-channel address {} is not on a local interface: peer connections start from the kernel's"
        + " choice of source address, which the peers' tunnels carry only if it is in this cluster's pod CIDRs",
        literal.get().getHostAddress());
    return Optional.empty();
  }

  private void linksObserved(Map<String, LinkHealth> health) {
    ReflectionService reflect = reflection;
    if (reflect != null) {
      reflect.linksObserved(health);
    }
  }

  /** The agent's status as JSON: hub connection, sync state, and every peer's link. */
  public String statusJson() {
    ReflectionService reflect = reflection;
    return StatusJson.render(new StatusJson.Snapshot(config.clusterId(), session.state(), sync.caughtUp(),
        sync.state(), sync.held(), stateProblem, reconciler.observeOnly(), gateway.problems(),
        Optional.ofNullable(reflect).map(ReflectionService::statusJson), status.lastLinks(),
        status.observationProblem(), viewDecisions.last().decisions(), pathSelector.all(), sync.carriedUntil()));
  }

  public MeshSync sync() {
    return sync;
  }

  public PrometheusMeterRegistry meters() {
    return meters;
  }

  public Optional<Integer> httpPort() {
    return Optional.ofNullable(http).map(MetricsListener::port);
  }

  /**
   * Stops the agent's threads. The tunnel is left up on purpose: an agent restart must not drop
   * traffic; {@link #teardown()} removes it.
   */
  @Override
  public void close() {
    running = false;
    session.close();
    identity.close();
    timer.shutdownNow();
    endpointTimer.shutdownNow();
    pathTimer.shutdownNow();
    viewPublisher.close();
    reconciler.close();
    synchronized (this) {
      if (reflection != null) {
        reflection.close();
      }
    }
    if (http != null) {
      http.close();
    }
    synchronized (this) {
      if (bridge != null) {
        bridge.close();
      }
    }
    prober.ifPresent(p -> {
      try {
        p.close();
      } catch (IOException e) {
        log.debug("probe port close failed error=\"{}\"", e.getMessage());
      }
    });
    // The WireGuard interface stays up: an agent restart must not drop traffic (teardown() removes it).
    log.info("agent stopped; data plane left running on purpose if={} wireguard_go_pid={} output={}"
            + " (the next agent adopts it; to remove it: ip link del dev {})", config.interfaceName(),
        wireGuard.userspacePid(config.interfaceName()).map(String::valueOf).orElse("none"),
        wireGuard.userspaceOutput(config.interfaceName()), config.interfaceName());
    interfaceClaim.close();
  }

  /** Removes the WireGuard interface (and its routes), the NAT tables and the source filter: for uninstall, not for restarts. */
  public void teardown() {
    wireGuard.deleteInterface(config.interfaceName());
    nat.removeAll();
    sourceFilter.ifPresent(TunnelSourceFilter::remove);
  }
}
