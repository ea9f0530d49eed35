package io.meshwire.agent;

import com.google.protobuf.ByteString;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.grpc.Status;
import io.kubernetes.client.openapi.ApiClient;
import io.meshwire.agent.config.AgentConfig;
import io.meshwire.agent.exec.ProcessCommandRunner;
import io.meshwire.agent.hub.Backoff;
import io.meshwire.agent.hub.HubClient;
import io.meshwire.agent.hub.HubErrors;
import io.meshwire.agent.ipam.IpamSettings;
import io.meshwire.agent.ipam.PeerDecision;
import io.meshwire.agent.ipam.ViewChecks;
import io.meshwire.agent.ipam.ViewDecisions;
import io.meshwire.agent.ipam.ViewPublisher;
import io.meshwire.agent.nat.Nat;
import io.meshwire.agent.reconcile.ObserveOnly;
import io.meshwire.agent.reconcile.Reconciler;
import io.meshwire.agent.reflect.ReflectionService;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.BootState;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.status.AgentHttp;
import io.meshwire.agent.status.LinkMonitor;
import io.meshwire.agent.status.LinkMonitor.PeerLink;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.agent.wire.AgentProtoMapper;
import io.meshwire.agent.wireguard.DataPlane;
import io.meshwire.agent.wireguard.GatewaySysctls;
import io.meshwire.agent.wireguard.InterfaceClaim;
import io.meshwire.agent.wireguard.IpRoutes;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.agent.wireguard.WgToolsWireGuard;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.WireGuardKeyPair;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.observability.JsonString;
import io.meshwire.observability.MetricsListener;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.LinkState;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Agent} is one cluster's mesh agent: it loads the last-known state and applies it before
 * anything else (so a restart with the hub down restores the tunnels), then enrolls if it has no
 * certificate, announces its record, follows the hub's Watch stream, keeps the state file and the
 * data plane in step with it, and reports link health.
 *
 * <p>Threads: the hub session runs on one virtual thread; reconcile passes on the reconciler's
 * single thread; link observation on the status timer. Shared state lives in {@link MeshSync}.
 * With {@code kubeconfig} set, {@link ReflectionService} reflects Multi-Cluster Services on its own
 * threads, fed state changes and link health from here.
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
  private final LinkMonitor links;
  // Overlap remapping (issue 5): IPAM decisions, their publication to the hub, the NAT driver.
  private final ViewDecisions viewDecisions;
  private final ViewPublisher viewPublisher;
  private final Nat nat;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "agent-status");
    t.setDaemon(true);
    return t;
  });
  private final Backoff backoff = Backoff.defaults();
  private final CircuitBreaker hubBreaker;
  private final Optional<String> stateProblem;
  private final ObserveOnly observeOnly;
  private final InterfaceClaim interfaceClaim;
  private final GatewaySysctls gateway;
  private final AtomicReference<HubClient> hub = new AtomicReference<>();
  private final AtomicReference<List<PeerLink>> lastLinks = new AtomicReference<>(List.of());
  private volatile boolean hubConnected;
  private volatile boolean running = true;
  private volatile Thread session;
  // Multi-Cluster Services reflection: null without kubeconfig, and until the cluster certificate exists.
  private final Optional<ApiClient> kube;
  private volatile ReflectionService reflection;
  private MetricsListener http;

  private Agent(AgentConfig config, InstantSource clock, BootState boot, StateFile file, Optional<ApiClient> kube,
      ProcessCommandRunner runner, WgToolsWireGuard wireGuard, InterfaceClaim interfaceClaim) {
    this.config = config;
    this.interfaceClaim = interfaceClaim;
    this.gateway = GatewaySysctls.host(config.interfaceName(), config.podCidrs().stream().anyMatch(c -> !c.isIpv4()),
        !config.remapPools().isEmpty());
    this.kube = kube;
    this.clock = clock;
    this.stateProblem = boot.problem();
    AgentState initial = boot.state();
    this.wireGuard = wireGuard;
    ScheduledExecutorService reconcileThread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "agent-reconcile");
      t.setDaemon(true);
      return t;
    });
    AtomicReference<Reconciler> reconcilerRef = new AtomicReference<>();
    this.sync = new MeshSync(config.clusterId(), initial, file, config.acceptHubState(), s -> {
      Reconciler r = reconcilerRef.get();
      if (r != null) {
        r.trigger();
      }
      ReflectionService reflect = reflection;
      if (reflect != null) {
        reflect.stateChanged();
      }
    }, v -> ViewChecks.problemAsViewOfMe(v, config.podCidrs()));
    // Without usable state, leave the data plane the previous agent left until the hub caught up.
    this.observeOnly = boot.unusable().map(why -> ObserveOnly.until(why, sync::caughtUp)).orElse(ObserveOnly.off());
    // --- overlap remapping (issue 5) ---
    this.nat = Nat.forHost(runner);
    this.viewPublisher = new ViewPublisher(sync,
        () -> hubConnected ? Optional.ofNullable(hub.get()).map(c -> (ViewPublisher.Hub) c::publishViews)
            : Optional.empty(),
        clock, Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "agent-views");
          t.setDaemon(true);
          return t;
        }), backoff, meters);
    // The tunnel address is routed here too: no peer may be seen as it.
    List<io.meshwire.netaddr.Cidr> reserved = java.util.stream.Stream.concat(config.reservedCidrs().stream(),
        config.interfaceAddress().stream()).toList();
    this.viewDecisions = new ViewDecisions(config.clusterId(), new IpamSettings(config.podCidrs(),
        config.serviceCidrs(), reserved, config.remapPools()), sync, clock, meters, viewPublisher::trigger);
    Reconciler.Remapping remapping = new Reconciler.Remapping(viewDecisions, nat, config.podCidrs());
    // --- end overlap remapping ---
    this.reconciler = new Reconciler(
        new Reconciler.Interface(config.interfaceName(), config.listenPort(), config.interfaceAddress(),
            config.persistentKeepalive()),
        wireGuard, new DataPlane(wireGuard, new IpRoutes(runner)), Optional.of(remapping), observeOnly, sync::state,
        reconcileThread, config.reconcileInterval(), meters);
    reconcilerRef.set(reconciler);
    this.links = new LinkMonitor(wireGuard, config.interfaceName(), config.linkDownAfter(), sync::state, clock);
    this.hubBreaker = CircuitBreaker.of("hub", CircuitBreakerConfig.custom()
        .failureRateThreshold(50)
        .slidingWindowSize(6)
        .minimumNumberOfCalls(3)
        .waitDurationInOpenState(Duration.ofSeconds(15))
        // A refused connection means no hub process listens: there is nothing to protect, and an
        // open breaker would keep the agent away for 15 s after the hub is back (Backoff.REFUSED_CAP).
        .ignoreException(HubErrors::connectionRefused)
        .build());
    registerMetrics();
  }

  /**
   * Starts the agent: state loaded and applied (before any hub contact), then the hub session and
   * the status loop in the background.
   */
  public static Agent start(AgentConfig config, InstantSource clock) throws IOException {
    Files.createDirectories(config.stateDir());
    WgToolsWireGuard.Backend backend = switch (config.wireguard()) {
      case "kernel" -> WgToolsWireGuard.Backend.KERNEL;
      case "userspace" -> WgToolsWireGuard.Backend.USERSPACE;
      default -> WgToolsWireGuard.Backend.AUTO;
    };
    ProcessCommandRunner runner = new ProcessCommandRunner();
    // wireguard-go's output goes next to the state: the data plane must not hold a pipe to this JVM.
    WgToolsWireGuard wireGuard = new WgToolsWireGuard(runner,
        WgToolsWireGuard.Config.defaults().withBackend(backend).withOutputDir(config.stateDir()));
    // One agent per interface name on this host, before anything reads or changes the interface.
    InterfaceClaim claim = InterfaceClaim.claim(InterfaceClaim.DEFAULT_DIR, config.interfaceName(), config.clusterId(),
        config.stateDir(), () -> wireGuard.serves(config.interfaceName()));
    StateFile file = new StateFile(config.stateDir().resolve("state.bin"), clock,
        new StateFile.Identity(config.clusterId(), meshOf(config)));
    BootState boot;
    Optional<ApiClient> kube;
    try {
      boot = BootState.load(file, () -> wireGuard.runningPrivateKey(config.interfaceName()));
      // A bad kubeconfig fails the start, not some later hub session.
      kube = config.kubeconfig().isEmpty() ? Optional.empty()
          : Optional.of(ReflectionService.kubeClient(config.kubeconfig().get()));
    } catch (IOException | RuntimeException e) {
      claim.close();
      throw e;
    }
    AgentState initial = boot.state();
    Agent agent = new Agent(config, clock, boot, file, kube, runner, wireGuard, claim);
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
    agent.timer.scheduleWithFixedDelay(agent::observeLinks, 0, config.statusInterval().toMillis(), TimeUnit.MILLISECONDS);
    // Forwarding and rp_filter: checked (and set where allowed) at start, then again in case someone resets them.
    agent.timer.scheduleWithFixedDelay(agent.gateway::check, 0, 30, TimeUnit.SECONDS);
    // A session can outlive 2/3 of the certificate's lifetime: check renewal hourly, not only on connect.
    agent.timer.scheduleWithFixedDelay(agent::renewInBackground, 1, 1, TimeUnit.HOURS);
    if (Files.exists(config.stateDir().resolve("cluster.crt"))) {
      agent.startReflection(TlsCredentials.load(config.stateDir(), "cluster")); // else once enrolled
    }
    agent.session = Thread.ofVirtual().name("agent-hub-session").start(agent::hubSession);
    return agent;
  }

  /** The mesh (trust domain) of the CA this agent trusts: from its state dir, else from hub-ca; "" before either exists. */
  private static String meshOf(AgentConfig config) {
    Path ca = config.stateDir().resolve("ca.crt");
    Optional<Path> source = Files.exists(ca) ? Optional.of(ca) : config.hubCa().filter(Files::exists);
    return source.map(p -> MeshCa.meshOf(Pem.readCertificate(p))).orElse("");
  }

  private void registerMetrics() {
    Gauge.builder("meshwire.agent.peers", sync, s -> s.state().peers().size()).register(meters);
    Gauge.builder("meshwire.agent.peers.up", lastLinks,
        l -> l.get().stream().filter(p -> p.health() == LinkHealth.UP).count()).register(meters);
    Gauge.builder("meshwire.agent.hub.connected", this, a -> a.hubConnected ? 1 : 0).register(meters);
    Gauge.builder("meshwire.agent.state.age", sync,
        s -> Duration.between(s.state().writtenAt(), clock.instant()).toMillis() / 1000.0)
        .baseUnit("seconds").description("Age of the last-known state file").register(meters);
    Gauge.builder("meshwire.agent.sync.held", sync, s -> s.held().isPresent() ? 1 : 0)
        .description("1 while the agent refuses the hub's state (mesh_uid changed or mass removal)").register(meters);
    Gauge.builder("meshwire.agent.state.corrupt", this, a -> a.stateProblem.isPresent() ? 1 : 0).register(meters);
    Gauge.builder("meshwire.agent.gateway.problems", this, a -> a.gateway.problems().size())
        .description("Kernel settings the gateway needs that are wrong (IP forwarding, rp_filter); see /status")
        .register(meters);
    Gauge.builder("meshwire.agent.dataplane.observe_only", reconciler, r -> r.observeOnly().isPresent() ? 1 : 0)
        .description("1 while the agent leaves the data plane as it found it (no authoritative state yet)")
        .register(meters);
    Gauge.builder("meshwire.agent.hub.events.malformed", sync, MeshSync::malformedEvents).register(meters);
    FunctionCounter.builder("meshwire.agent.views.rejected", sync, MeshSync::rejectedViews)
        .description("Views of this cluster refused (wrong size, or not of its pod CIDRs)").register(meters);
  }

  /** The hub session: enroll if needed, announce, then Watch, reconnecting with backoff forever. */
  private void hubSession() {
    int attempt = 0;
    while (running) {
      Optional<Duration> hint = Optional.empty();
      boolean refused = false;
      try {
        HubClient client = hubClient();
        renewIfDue(client);
        announce(client);
        hubConnected = true;
        viewPublisher.trigger(); // views go after the announce: the hub needs our record first
        HubClient.WatchEnd ended = client.watch(sync.state().revision(), sync.state().meshUid(), sync).get();
        Status end = ended.status();
        hint = ended.retryAfter();
        refused = end.getCause() != null && HubErrors.connectionRefused(end.getCause());
        if (sync.caughtUp()) {
          attempt = 0; // a healthy session: start the backoff over
        }
        log.info("hub stream ended hub={} status={} description=\"{}\"", client.currentHub(), end.getCode(),
            end.getDescription());
        client.rotate();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | java.util.concurrent.ExecutionException | IOException e) {
        log.info("hub unreachable error=\"{}\"", e.getMessage());
        refused = HubErrors.connectionRefused(e);
        HubClient c = hub.get();
        if (c != null) {
          c.rotate();
        }
      }
      hubConnected = false;
      if (!running) {
        return;
      }
      Duration delay = backoff.delay(++attempt, hint, refused);
      try {
        Thread.sleep(delay); // the backoff itself: waiting is the point here
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The hub client, enrolling first when there is no certificate yet. */
  private HubClient hubClient() throws IOException {
    HubClient existing = hub.get();
    if (existing != null) {
      return existing;
    }
    Path dir = config.stateDir();
    TlsCredentials creds;
    if (Files.exists(dir.resolve("cluster.crt"))) {
      creds = TlsCredentials.load(dir, "cluster");
    } else {
      String token = config.joinToken().orElseThrow(() -> new IllegalStateException(
          "no certificate in " + dir + " and no join token (set join-token or join-token-file)"));
      Path caFile = Files.exists(dir.resolve("ca.crt")) ? dir.resolve("ca.crt")
          : config.hubCa().orElseThrow(() -> new IllegalStateException(
              "no certificate in " + dir + " and no hub-ca to verify the hub while enrolling"));
      X509Certificate ca = Pem.readCertificate(caFile);
      creds = HubClient.enroll(config.hubs(), ca, MeshCa.meshOf(ca), config.clusterId(), token, clock);
      write(dir, creds);
      log.info("enrolled cluster={} not_after={}", config.clusterId(), creds.leaf().getNotAfter().toInstant());
    }
    HubClient client = new HubClient(config.hubs(), creds, clock);
    hub.set(client);
    startReflection(creds);
    return client;
  }

  /** Starts reflection once, when configured; the peer channel needs the cluster certificate. */
  private synchronized void startReflection(TlsCredentials creds) {
    if (kube.isEmpty() || reflection != null || !running) {
      return;
    }
    reflection = ReflectionService.start(
        ReflectionService.Settings.defaults(config.clusterId(), config.peerListen().orElseThrow(), config.podCidrs(),
            config.peerChannel())
            .withStateDir(config.stateDir()), // peer catalogs survive restarts next to the state file
        kube.get(), creds, sync::state, clock, meters);
  }

  private static void write(Path dir, TlsCredentials creds) {
    Pem.writePrivateKey(dir.resolve("cluster.key"), creds.privateKey());
    Pem.writeCertificates(dir.resolve("cluster.crt"), creds.chain());
    Pem.writeCertificates(dir.resolve("ca.crt"), creds.trustAnchors());
  }

  private void renewInBackground() {
    HubClient client = hub.get();
    if (client == null || !hubConnected) {
      return;
    }
    try {
      renewIfDue(client);
    } catch (RuntimeException e) {
      log.warn("certificate renewal failed error=\"{}\"; retrying within the hour", e.getMessage());
    }
  }

  /** Renews the certificate once 2/3 of its lifetime has passed. */
  private void renewIfDue(HubClient client) {
    TlsCredentials creds = TlsCredentials.load(config.stateDir(), "cluster");
    Instant notBefore = creds.leaf().getNotBefore().toInstant();
    Instant notAfter = creds.leaf().getNotAfter().toInstant();
    Instant due = notBefore.plus(Duration.between(notBefore, notAfter).multipliedBy(2).dividedBy(3));
    if (clock.instant().isBefore(due)) {
      return;
    }
    TlsCredentials renewed = client.renew(new SpiffeId(MeshCa.meshOf(creds.trustAnchors().get(0)),
        io.meshwire.certs.Role.CLUSTER, config.clusterId()));
    write(config.stateDir(), renewed);
    client.useCredentials(renewed);
    ReflectionService reflect = reflection;
    if (reflect != null) {
      reflect.useCredentials(renewed); // new peer connections only; established streams stay up
    }
    log.info("certificate renewed cluster={} not_after={}", config.clusterId(), renewed.leaf().getNotAfter().toInstant());
  }

  /** Announces the own record with a generation greater than any before it (persisted first). */
  private void announce(HubClient client) {
    AgentState s = sync.update(st -> st.withOwnGeneration(Math.max(st.ownGeneration() + 1, clock.millis())));
    ClusterRecord record = ownRecord(s);
    Retry retry = Retry.of("announce", RetryConfig.custom()
        .maxAttempts(3)
        .intervalBiFunction(backoff.asIntervalFunction())
        .retryOnException(e -> e instanceof io.grpc.StatusRuntimeException sre
            && sre.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED)
        .build());
    long revision = hubBreaker.executeSupplier(Retry.decorateSupplier(retry, () -> client.announce(record)));
    log.info("announced cluster={} generation={} revision={} hub={}", config.clusterId(), record.getGeneration(),
        revision, client.currentHub());
  }

  private ClusterRecord ownRecord(AgentState s) {
    WireGuardKeyPair keys = WireGuardKeyPair.fromPrivateBase64(s.wireguardPrivateKey());
    ClusterRecord.Builder b = ClusterRecord.newBuilder()
        .setClusterId(config.clusterId())
        .setWireguardPublicKey(ByteString.copyFrom(Base64.getDecoder().decode(keys.publicKeyBase64())))
        .setWireguardListenPort(config.listenPort())
        .setAgentVersion(VERSION)
        .setGeneration(s.ownGeneration());
    config.endpoints().forEach(e -> b.addGatewayEndpoints(e.toString()));
    config.podCidrs().forEach(c -> b.addPodCidrs(c.toString()));
    config.serviceCidrs().forEach(c -> b.addServiceCidrs(c.toString()));
    config.peerChannel().ifPresent(p -> b.setPeerChannelAddress(p.toString()));
    return b.build();
  }

  private void observeLinks() {
    List<PeerLink> observed;
    try {
      observed = links.observe();
    } catch (RuntimeException e) {
      log.debug("link observation failed error=\"{}\"", e.getMessage());
      return;
    }
    lastLinks.set(observed);
    ReflectionService reflect = reflection;
    if (reflect != null) {
      reflect.linksObserved(observed.stream().collect(Collectors.toMap(PeerLink::clusterId,
          PeerLink::health, (x, y) -> y)));
    }
    HubClient client = hub.get();
    if (client == null || !hubConnected) {
      return;
    }
    ReportStatusRequest.Builder report = ReportStatusRequest.newBuilder()
        .setObservedAt(AgentProtoMapper.timestamp(clock.instant()));
    for (PeerLink l : observed) {
      PeerLinkStatus.Builder p = PeerLinkStatus.newBuilder()
          .setPeerClusterId(l.clusterId())
          .setState(l.health() == LinkHealth.UP ? LinkState.LINK_STATE_UP : LinkState.LINK_STATE_DOWN)
          .setRxBytes(l.rxBytes())
          .setTxBytes(l.txBytes());
      l.latestHandshake().ifPresent(t -> p.setLatestHandshake(AgentProtoMapper.timestamp(t)));
      l.endpoint().ifPresent(e -> p.setEndpoint(e.getAddress().getHostAddress() + ":" + e.getPort()));
      report.addPeers(p);
    }
    try {
      hubBreaker.executeRunnable(() -> client.reportStatus(report.build()));
    } catch (CallNotPermittedException e) {
      // hub considered down: skip reports until the breaker half-opens
    } catch (RuntimeException e) {
      log.debug("status report failed error=\"{}\"", e.getMessage());
    }
  }

  /** The agent's status as JSON: hub connection, sync state, and every peer's link. */
  public String statusJson() {
    AgentState s = sync.state();
    StringBuilder json = new StringBuilder();
    json.append("{\"cluster\":").append(JsonString.quote(config.clusterId()))
        .append(",\"hub_connected\":").append(hubConnected)
        .append(",\"caught_up\":").append(sync.caughtUp())
        .append(",\"mesh_uid\":").append(JsonString.quote(s.meshUid()))
        .append(",\"revision\":").append(s.revision())
        .append(",\"state_written_at\":").append(JsonString.quote(s.writtenAt().toString()))
        .append(",\"held\":").append(sync.held().map(JsonString::quote).orElse("null"))
        .append(",\"state_problem\":").append(stateProblem.map(JsonString::quote).orElse("null"))
        .append(",\"gateway_problems\":").append(gateway.problems().stream().map(JsonString::quote)
            .collect(Collectors.joining(",", "[", "]")))
        .append(",\"data_plane_observe_only\":").append(reconciler.observeOnly().map(JsonString::quote).orElse("null"))
        .append(",\"reflection\":").append(reflection == null ? "null" : reflection.statusJson())
        .append(",\"peers\":[");
    List<PeerLink> observed = lastLinks.get();
    for (int i = 0; i < observed.size(); i++) {
      PeerLink l = observed.get(i);
      var peer = s.peers().get(l.clusterId());
      if (i > 0) {
        json.append(',');
      }
      json.append("{\"cluster\":").append(JsonString.quote(l.clusterId()))
          .append(",\"state\":").append(JsonString.quote(l.health().name()))
          .append(",\"endpoint\":").append(l.endpoint()
              .map(e -> JsonString.quote(e.getAddress().getHostAddress() + ":" + e.getPort())).orElse("null"))
          .append(",\"handshake_age_seconds\":").append(l.handshakeAge().map(d -> String.valueOf(d.toSeconds())).orElse("null"))
          .append(",\"rx_bytes\":").append(l.rxBytes())
          .append(",\"tx_bytes\":").append(l.txBytes())
          .append(",\"pod_cidrs\":").append(JsonString.quote(peer == null ? "" : peer.podCidrs().toString()))
          .append(",\"view\":").append(viewStatus(l.clusterId()))
          .append(",\"seen_as\":").append(seenAs(s, l.clusterId()))
          .append('}');
    }
    return json.append("]}\n").toString();
  }

  /** The peer's pod CIDRs as this cluster sees them (its view), as a JSON array. */
  private static String seenAs(AgentState s, String peer) {
    var record = s.peers().get(peer);
    if (record == null) {
      return "[]";
    }
    var view = s.myViews().get(peer);
    return record.podCidrs().stream()
        .map(c -> JsonString.quote((view == null ? c : view.seenAs(c)).toString()))
        .collect(java.util.stream.Collectors.joining(",", "[", "]"));
  }

  /** The IPAM condition of one peer as JSON, e.g. {@code {"condition":"REMAPPED","detail":"..."}}; null before deciding. */
  private String viewStatus(String peer) {
    PeerDecision d = viewDecisions.last().decisions().get(peer);
    return d == null ? "null"
        : "{\"condition\":" + JsonString.quote(d.condition()) + ",\"detail\":" + JsonString.quote(d.describe()) + "}";
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
    if (session != null) {
      session.interrupt();
    }
    HubClient c = hub.get();
    if (c != null) {
      c.close();
    }
    timer.shutdownNow();
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
    // The WireGuard interface stays up: an agent restart must not drop traffic (teardown() removes it).
    log.info("agent stopped; data plane left running on purpose if={} wireguard_go_pid={} output={}"
            + " (the next agent adopts it; to remove it: ip link del dev {})", config.interfaceName(),
        wireGuard.userspacePid(config.interfaceName()).map(String::valueOf).orElse("none"),
        wireGuard.userspaceOutput(config.interfaceName()), config.interfaceName());
    interfaceClaim.close();
  }

  /** Removes the WireGuard interface (and its routes) and the NAT tables: for uninstall, not for restarts. */
  public void teardown() {
    wireGuard.deleteInterface(config.interfaceName());
    nat.removeAll();
  }
}
