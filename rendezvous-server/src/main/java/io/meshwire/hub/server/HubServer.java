package io.meshwire.hub.server;

import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.meshwire.certs.AtomicFiles;
import io.meshwire.certs.CertificateVerifier;
import io.meshwire.certs.Certificates;
import io.meshwire.certs.Revocations;
import io.meshwire.certs.TokenStore;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.JoinTokens;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.RevocationList;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.hub.api.AuditLog;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.api.HubServices;
import io.meshwire.hub.api.Presence;
import io.meshwire.hub.api.RequestGuard;
import io.meshwire.netaddr.Quote;
import io.meshwire.hub.auth.AccessPolicy;
import io.meshwire.hub.auth.AuthInterceptor;
import io.meshwire.hub.auth.RateLimits;
import io.meshwire.hub.etcd.EtcdAudit;
import io.meshwire.hub.etcd.EtcdClients;
import io.meshwire.hub.etcd.EtcdJoinTokens;
import io.meshwire.hub.etcd.EtcdMembership;
import io.meshwire.hub.etcd.EtcdPresence;
import io.meshwire.hub.etcd.EtcdRevocations;
import io.meshwire.hub.etcd.EtcdSettings;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.log.MembershipLog;
import io.meshwire.hub.log.UnreadableEntryException;
import io.meshwire.hub.watch.WatchSink;
import io.meshwire.hub.store.FileLogStore;
import io.meshwire.hub.store.StoreException;
import io.meshwire.hub.watch.ProtoWatchCodec;
import io.meshwire.hub.watch.WatchHub;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.observability.MetricsListener;
import io.meshwire.validation.WireValidator;
import io.meshwire.relay.RelayTls;
import io.meshwire.relay.server.RelayConfig;
import io.meshwire.relay.server.RelayServer;
import io.meshwire.relay.server.RevocationCheck;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code HubServer} wires and runs one hub: its CA and credentials, stores, membership log, watch
 * fan-out, services and the gRPC server. {@link #start} returns once the server listens;
 * {@link #close} stops it, telling watchers to come back later.
 *
 * <p>Transport: in production a Netty server with TLS 1.3 and the keep-alive policy, built in one
 * place ({@link #nettyTransport}); tests may hand over any {@link ServerBuilder} instead (an
 * in-process one), on which the same services and the same per-call authorization are installed.
 *
 * <p>Data directory layout: {@code ca/} (mesh CA, created on first start), {@code admin/}
 * (an admin credential for the CLI, created on first start), {@code log/} (the membership store),
 * {@code tokens.json}, {@code revocations.json}.
 */
public final class HubServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HubServer.class);
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  private static final Duration HUB_CERT_VALIDITY = Duration.ofDays(365);
  private static final Duration ADMIN_CERT_VALIDITY = Duration.ofDays(365);
  /** Audit events kept for `meshwire audit` (in memory, or in etcd shared by the replicas). */
  private static final int AUDIT_CAPACITY = 10_000;

  private final HubConfig config;
  private final Server server;
  /** The Netty event loops of the production transport; null with a builder handed over. */
  private final HubTransport netty;
  private final Membership membership;
  private final AutoCloseable etcdClient;
  private final WatchHub watches;
  private final ExecutorService fanoutPool;
  private final ExecutorService checkpointPool;
  private final ScheduledExecutorService scheduler;
  private final HealthStatusManager health;
  private final MetricsListener metricsListener;
  private final MeshCa ca;
  /** The embedded relay ({@code relay-listen}), or null. */
  private final RelayServer relay;

  private HubServer(HubConfig config, Server server, HubTransport netty, Membership membership,
      AutoCloseable etcdClient,
      WatchHub watches, ExecutorService fanoutPool, ExecutorService checkpointPool, ScheduledExecutorService scheduler,
      HealthStatusManager health, MetricsListener metricsListener, MeshCa ca, RelayServer relay) {
    this.config = config;
    this.server = server;
    this.netty = netty;
    this.membership = membership;
    this.etcdClient = etcdClient;
    this.watches = watches;
    this.fanoutPool = fanoutPool;
    this.checkpointPool = checkpointPool;
    this.scheduler = scheduler;
    this.health = health;
    this.metricsListener = metricsListener;
    this.ca = ca;
    this.relay = relay;
  }

  /**
   * Starts a hub. On first start with an empty data directory it creates the mesh CA and an admin
   * credential ({@code admin/admin.crt}, {@code admin/admin.key}, {@code admin/ca.crt}).
   *
   * @param meters where metrics go; a Prometheus registry when {@code metrics-listen} is set
   */
  public static HubServer start(HubConfig config, InstantSource clock, MeterRegistry meters) throws Exception {
    return start(config, clock, meters, Optional.empty(), StartPhases.begin(Optional.empty()));
  }

  /** {@link HubMain}'s start: the log line's start phases count from the JVM's start. */
  static HubServer start(HubConfig config, InstantSource clock, MeterRegistry meters, Optional<Instant> jvmStart)
      throws Exception {
    return start(config, clock, meters, Optional.empty(), StartPhases.begin(jvmStart));
  }

  /**
   * Starts a hub serving on {@code transport} instead of the TLS listener of {@code listen} (the
   * embedded relay and the metrics listener still follow the configuration). An in-process
   * transport has no TLS session, so its callers are anonymous unless the builder itself supplies
   * one ({@link Grpc#TRANSPORT_ATTR_SSL_SESSION}) through an interceptor: builder-level
   * interceptors run before the hub's own per-service authorization.
   */
  public static HubServer start(HubConfig config, InstantSource clock, MeterRegistry meters,
      ServerBuilder<?> transport) throws Exception {
    return start(config, clock, meters, Optional.of(transport), StartPhases.begin(Optional.empty()));
  }

  private static HubServer start(HubConfig config, InstantSource clock, MeterRegistry meters,
      Optional<ServerBuilder<?>> transport, StartPhases phases) throws Exception {
    Path data = config.dataDir();
    // With etcd, an unreachable etcd or refused certificates stop the start before anything is written.
    io.etcd.jetcd.Client etcdClient = config.etcd()
        .map(settings -> EtcdClients.connect(settings, Duration.ofSeconds(5)))
        .orElse(null);
    try {
      return start(config, clock, meters, data, etcdClient, transport, phases);
    } catch (Exception | Error e) {
      if (etcdClient != null) {
        etcdClient.close();
      }
      throw e;
    }
  }

  private static HubServer start(HubConfig config, InstantSource clock, MeterRegistry meters, Path data,
      io.etcd.jetcd.Client etcdClient, Optional<ServerBuilder<?>> transport, StartPhases phases) throws Exception {
    Files.createDirectories(data);
    // A SIGKILL during a whole-file rewrite (tokens, revocations, CA and admin files) leaves a temp
    // file beside it; nothing else writes here yet. The store cleans its own directory.
    for (Path dir : List.of(data, data.resolve("ca"), data.resolve("admin"))) {
      List<Path> removed = AtomicFiles.deleteLeftoverTemps(dir);
      if (!removed.isEmpty()) {
        log.info("removed leftover temporary files dir={} count={} files={}", dir, removed.size(),
            removed.stream().map(p -> p.getFileName().toString()).toList());
      }
    }
    // Loading OpenSSL and building the TLS context is a good part of a cold start: it runs beside the
    // CA's load and the store's recovery below (for the production transport; a test's builder needs
    // none). The native library needs no credential, so it loads while the CA does.
    CompletableFuture<IssuedCredential> credential = new CompletableFuture<>();
    CompletableFuture<SslContext> tls = new CompletableFuture<>();
    if (transport.isEmpty()) {
      named("hub-tls-init").newThread(() -> {
        try {
          long started = System.nanoTime();
          OpenSsl.isAvailable();
          phases.record("openssl", Duration.ofNanos(System.nanoTime() - started));
          IssuedCredential hub = credential.join();
          long building = System.nanoTime();
          tls.complete(serverTls(hub));
          phases.record("tls", Duration.ofNanos(System.nanoTime() - building));
        } catch (java.util.concurrent.CompletionException e) {
          tls.completeExceptionally(e.getCause()); // the CA failed; start() reports that itself
        } catch (IOException | RuntimeException | Error e) { // an Error too: start() waits for this future
          tls.completeExceptionally(e);
        }
      }).start();
    }
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    ExecutorService fanoutPool = Executors.newFixedThreadPool(threads, named("hub-fanout"));
    ExecutorService checkpointPool = Executors.newSingleThreadExecutor(named("hub-checkpoint"));
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(named("hub-timer"));
    WireValidator validator = new WireValidator(config.maxCidrPrefix());
    // The file store's recovery (open, replay) needs nothing of the CA's: it runs beside it.
    CompletableFuture<MembershipLog> recovery = etcdClient != null ? null
        : recoverInBackground(config, data, clock, meters, validator, fanoutPool, checkpointPool, phases);

    MeshCa ca;
    IssuedCredential hubCredential;
    TokenStore tokens;
    Revocations revocations;
    Membership membership;
    EtcdMembership etcd = null;
    EtcdRevocations etcdRevocations = null;
    AuditLog audit;
    Presence presence;
    TokenStore fileTokens = null;
    Revocations fileRevocations = null;
    MembershipLog recovered = null;
    try {
      try {
        ca = loadOrCreateCa(data.resolve("ca"), config.mesh(), clock);
        writeAdminCredentialIfAbsent(ca, data.resolve("admin"));
        hubCredential = ca.issue(new SpiffeId(ca.mesh(), Role.HUB, config.hubName()), HUB_CERT_VALIDITY);
      } catch (RuntimeException | Error e) {
        credential.completeExceptionally(e);
        throw e;
      }
      credential.complete(hubCredential);
      phases.mark("ca");
      if (etcdClient == null) {
        fileTokens = JoinTokens.open(data.resolve("tokens.json"), clock);
        fileRevocations = RevocationList.open(data.resolve("revocations.json"));
        phases.mark("tokens");
        recovered = awaitRecovery(recovery, data);
        phases.mark("recovery_wait");
      }
    } catch (Exception | Error e) {
      // Nothing else is open yet: the recovered store (its lock) and the pools.
      if (recovery != null) {
        try {
          recovery.join().close();
        } catch (java.util.concurrent.CompletionException failed) {
          // The recovery failed too and closed its store itself.
        }
      }
      fanoutPool.shutdown();
      checkpointPool.shutdown();
      scheduler.shutdown();
      throw e;
    }
    if (etcdClient == null) {
      audit = new AuditLog(clock, AUDIT_CAPACITY);
      presence = Presence.inMemory();
      tokens = fileTokens;
      revocations = fileRevocations;
      membership = recovered;
    } else {
      EtcdSettings settings = config.etcd().orElseThrow();
      etcdRevocations = new EtcdRevocations(ca.mesh());
      EtcdAudit etcdAudit = new EtcdAudit(config.hubName(), AUDIT_CAPACITY, clock);
      etcd = EtcdMembership.open(etcdClient, settings, ca.mesh(), Certificates.sha256Fingerprint(ca.certificate()),
          new ProtoEventCodec(validator), clock, new EtcdMembership.Options(config.retainedEntries(), Duration.ofSeconds(3),
              Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(6), Duration.ofSeconds(10),
              config.hubName()).withDefaultPeering(config.defaultPeering()),
          fanoutPool, Map.of(EtcdRevocations.PREFIX, etcdRevocations, EtcdAudit.PREFIX, etcdAudit));
      etcdAudit.bind(etcd);
      audit = etcdAudit.log();
      presence = new EtcdPresence(etcd, config.hubName(), EtcdPresence.Options.defaults());
      tokens = new EtcdJoinTokens(etcd, clock);
      revocations = etcdRevocations;
      membership = etcd;
      phases.mark("etcd");
      EtcdMembership watched = etcd;
      etcd.bindMetrics(meters);
      Gauge.builder("meshwire.hub.etcd.watch.restarts", watched, EtcdMembership::watchRestarts)
          .description("Times this replica replaced its etcd watch (errors, stalls, compaction)").register(meters);
      Gauge.builder("meshwire.hub.etcd.watch.stalls", watched, EtcdMembership::watchStalls)
          .description("Times this replica's etcd watch answered no progress request in time and was replaced")
          .register(meters);
      Gauge.builder("meshwire.hub.etcd.lease.losses", watched, EtcdMembership::leaseLosses)
          .description("Times this replica found its etcd lease gone and granted a new one").register(meters);
      Gauge.builder("meshwire.hub.etcd.writes.in.flight", watched, EtcdMembership::writesInFlight)
          .description("Writes this replica has in flight to etcd (bounded; more are told to retry)").register(meters);
      Gauge.builder("meshwire.hub.etcd.writes.refused.busy", watched, EtcdMembership::writesRefusedBusy)
          .description("Writes refused with a retry hint because this replica had the most writes in flight")
          .register(meters);
      Gauge.builder("meshwire.hub.etcd.serving", watched, m -> m.unavailableReason().isEmpty() ? 1 : 0)
          .description("1 while this replica reaches etcd and serves; 0 while partitioned from it").register(meters);
    }
    // From here on the store is open (file lock, etcd watch and lease): a later step that fails (a
    // port in use, a bad metrics registry) must not leave it, its pools or a started server behind.
    Server server = null;
    HubTransport netty = null;
    RelayServer relay = null;
    try {
      Gauge.builder("meshwire.hub.revision", membership, Membership::durableRevision)
          .description("Newest durable revision of the membership log").register(meters);
      var events = io.micrometer.core.instrument.Counter.builder("meshwire.hub.events")
          .description("Membership changes made durable").register(meters);
      java.util.concurrent.atomic.AtomicLong lastCounted = new java.util.concurrent.atomic.AtomicLong(
          membership.durableRevision());
      membership.onDurable(revision -> {
        long before = lastCounted.getAndAccumulate(revision, Math::max);
        if (revision > before) {
          events.increment(revision - before);
        }
      });

      WatchHub watches = new WatchHub(membership,
          new ProtoWatchCodec(config.advertisedRelays().stream().map(Object::toString).toList()),
          new WatchHub.Options(config.bookmarkInterval(), config.snapshotChunkSize(), config.maxConcurrentSnapshots(),
              config.maxWaitingSnapshots(), config.overloadRetryAfter(), 256),
          fanoutPool, scheduler, meters);

      HealthStatusManager health = new HealthStatusManager();
      if (etcd != null) {
        EtcdMembership replica = etcd;
        etcdRevocations.bind(etcd, id -> watches.closeCluster(id, new WatchSink.Failure(WatchSink.Failure.Kind.REVOKED,
            "certificate of cluster " + id + " revoked", Duration.ZERO)));
        etcd.onServingChanged(() -> {
          String reason = replica.unavailableReason().orElse(null);
          watches.setUnavailable(reason);
          health.setStatus("", reason == null ? io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
              : io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING);
        });
      }

      RateLimits limits = new RateLimits(config.enrollRate(), config.announceRate());
      HubServices services = new HubServices(ca, tokens, revocations, membership, watches, limits,
          config.certValidity(), presence, clock, meters, validator, audit);
      AuthInterceptor auth = new AuthInterceptor(
          new CertificateVerifier(List.of(ca.certificate()), ca.mesh()), revocations, AccessPolicy.hub(), clock, meters,
          id -> {
            if (id.role() == Role.CLUSTER) {
              presence.seen(id.name(), clock.instant());
            }
          }, limits, (remote, method, reason, detail) -> audit.record(remote, "call.refused", method,
              reason + ": " + Quote.of(detail)));
      RequestGuard guard = new RequestGuard(meters, audit);

      // The Netty transport (event loops, native epoll) exists only on the production path; a test's
      // builder brings its own.
      netty = transport.isPresent() ? null : HubTransport.create();
      phases.mark("services");
      ServerBuilder<?> builder;
      if (netty == null) {
        builder = transport.get();
      } else {
        SslContext ssl = tlsContext(tls);
        phases.mark("tls_wait");
        if (!SessionTickets.install(ssl, ca, clock, scheduler, meters)) {
          log.info("TLS session tickets keep per-process keys (JDK provider): reconnects after a restart make"
              + " full handshakes");
        }
        builder = nettyTransport(config, ssl, netty);
      }
      builder.maxInboundMessageSize(config.maxMessageBytes());
      // Authorization wraps every service (outermost): interceptors of a test's builder run before it.
      addAuthorized(builder, auth, guard.guard(health.getHealthService().bindService()));
      addAuthorized(builder, auth, guard.guard(ProtoReflectionServiceV1.newInstance().bindService()));
      services.definitions().forEach(definition -> addAuthorized(builder, auth, definition));
      server = builder.build().start();
      phases.mark("server");
      // The embedded relay presents the hub's certificate and sees the hub's revocations live.
      relay = config.relayListen().map(listen -> RelayServer.start(RelayConfig.defaults(listen),
          RelayTls.server(new RenewableKeyManager(TlsCredentials.of(hubCredential)), clock),
          RevocationCheck.of(revocations), meters)).orElse(null);

      // Readiness for orchestrators: listening, and with etcd, connected and caught up.
      EtcdMembership readiness = etcd;
      java.util.function.Supplier<MetricsListener.Response> ready = () -> {
        java.util.Optional<String> why = readiness == null ? java.util.Optional.empty() : readiness.notReadyReason();
        return why.map(w -> new MetricsListener.Response(503, "text/plain; charset=utf-8", "not ready: " + w + "\n"))
            .orElseGet(() -> new MetricsListener.Response(200, "text/plain; charset=utf-8", "ready\n"));
      };
      MetricsListener metricsListener = config.metricsListen()
          .map(hp -> MetricsListener.start(hp, meters, Map.of("/ready", ready)))
          .orElse(null);
      phases.mark("relay_metrics");
      log.info("hub started listen={}:{} mesh={} mesh_uid={} revision={} store={} provider={} transport={} data_dir={}"
              + " start_ms={}",
          config.listen().host(), server.getPort(), ca.mesh(), membership.meshUid(), membership.durableRevision(),
          config.store().name().toLowerCase(java.util.Locale.ROOT), OpenSsl.isAvailable() ? "openssl" : "jdk",
          netty == null ? "provided" : netty.describe(), data, phases.describe());
      return new HubServer(config, server, netty, membership, etcdClient, watches, fanoutPool, checkpointPool,
          scheduler, health, metricsListener, ca, relay);
    } catch (Exception | Error e) {
      if (relay != null) {
        relay.close();
      }
      if (server != null) {
        server.shutdownNow();
      }
      if (netty != null) {
        netty.close();
      }
      scheduler.shutdownNow();
      checkpointPool.shutdown();
      membership.close();
      fanoutPool.shutdown();
      throw e;
    }
  }

  /**
   * Opens the file store and replays it into a {@link MembershipLog} on a thread of its own
   * ({@code hub-recovery}); a failure completes the future (the store closed again).
   */
  private static CompletableFuture<MembershipLog> recoverInBackground(HubConfig config, Path data, InstantSource clock,
      MeterRegistry meters, WireValidator validator, ExecutorService fanoutPool, ExecutorService checkpointPool,
      StartPhases phases) {
    CompletableFuture<MembershipLog> recovered = new CompletableFuture<>();
    named("hub-recovery").newThread(() -> {
      long started = System.nanoTime();
      FileLogStore store;
      try {
        store = FileLogStore.open(data.resolve("log"), FileLogStore.Options.defaults(), meters);
      } catch (StoreException | RuntimeException | Error e) {
        recovered.completeExceptionally(e);
        return;
      }
      long replaying = System.nanoTime();
      phases.record("store", Duration.ofNanos(replaying - started));
      try {
        recovered.complete(new MembershipLog(store, new ProtoEventCodec(validator), clock,
            new MembershipLog.Options(config.retainedEntries(), config.checkpointInterval(), config.defaultPeering()),
            fanoutPool, checkpointPool));
        phases.record("replay", Duration.ofNanos(System.nanoTime() - replaying));
      } catch (RuntimeException | Error e) {
        store.close();
        recovered.completeExceptionally(e);
      }
    }).start();
    return recovered;
  }

  /** The recovered membership log, or the recovery's failure (an unreadable entry explained). */
  private static MembershipLog awaitRecovery(CompletableFuture<MembershipLog> recovery, Path data) throws Exception {
    try {
      return recovery.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof UnreadableEntryException unreadable) {
        throw new HubStartException(unreadable.getMessage() + ". The hub does not start on a store it cannot read back"
            + " and does not rewrite it by itself. " + unreadable.clusterId().map(id -> "To quarantine that cluster's"
                + " records (a copy of the store is kept), stop every hub on this data directory and run: meshwire hub"
                + " repair --data-dir " + data + " --drop-cluster " + id + "; the cluster announces again when its agent"
                + " reconnects.").orElse("Restore the data directory from a backup."), unreadable);
      }
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw (Error) e.getCause();
    }
  }

  private static void addAuthorized(ServerBuilder<?> builder, ServerInterceptor auth,
      io.grpc.ServerServiceDefinition service) {
    builder.addService(ServerInterceptors.intercept(service, auth));
  }

  /**
   * The production transport: Netty on {@code listen} with the event loops and socket transport of
   * {@code netty} ({@link HubTransport}), TLS 1.3 with the hub's certificate ({@link #serverTls}),
   * and the keep-alive policy. The one place the Netty server is configured.
   */
  static NettyServerBuilder nettyTransport(HubConfig config, SslContext ssl, HubTransport netty) {
    return netty.configure(NettyServerBuilder
        .forAddress(new InetSocketAddress(config.listen().host(), config.listen().port())))
        .sslContext(ssl)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS);
  }

  /** The TLS context built beside the store's recovery (see start). */
  private static SslContext tlsContext(CompletableFuture<SslContext> tls) throws IOException {
    try {
      return tls.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw e;
    }
  }

  /** TLS 1.3; any client certificate is accepted here and verified per call by AuthInterceptor. */
  private static SslContext serverTls(IssuedCredential credential) throws IOException {
    return GrpcSslContexts.configure(
            io.netty.handler.ssl.SslContextBuilder.forServer(credential.privateKey(), credential.certificate()),
            OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
        .protocols("TLSv1.3")
        .sessionTimeout(SessionTickets.LIFETIME.toSeconds()) // the ticket lifetime the hub announces
        .clientAuth(ClientAuth.OPTIONAL)
        .trustManager(InsecureTrustManagerFactory.INSTANCE)
        .build();
  }

  private static MeshCa loadOrCreateCa(Path dir, String mesh, InstantSource clock) {
    if (Files.exists(dir.resolve(MeshCa.CERT_FILE))) {
      MeshCa ca = MeshCa.load(dir, clock);
      if (!ca.mesh().equals(mesh) && !mesh.equals(HubConfig.DEFAULTS.get("mesh"))) {
        log.warn("configured mesh differs from the CA's; using the CA's configured={} ca={}", mesh, ca.mesh());
      }
      return ca;
    }
    MeshCa ca = MeshCa.create(mesh, CA_VALIDITY, clock);
    ca.save(dir);
    log.info("created mesh CA mesh={} dir={}", mesh, dir);
    return ca;
  }

  private static void writeAdminCredentialIfAbsent(MeshCa ca, Path dir) {
    if (Files.exists(dir.resolve("admin.crt"))) {
      return;
    }
    ca.issue(new SpiffeId(ca.mesh(), Role.ADMIN, "admin"), ADMIN_CERT_VALIDITY).writeTo(dir, "admin");
    log.info("wrote admin credential dir={}", dir);
  }

  private static java.util.concurrent.ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The port the server listens on (useful with port 0). */
  public int port() {
    return server.getPort();
  }

  /** The port of the metrics listener ({@code /metrics}, {@code /ready}), if {@code metrics-listen} is set. */
  public java.util.OptionalInt metricsPort() {
    return metricsListener == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(metricsListener.port());
  }

  /** The embedded relay's port, if {@code relay-listen} is set. */
  public java.util.OptionalInt relayPort() {
    return relay == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(relay.port());
  }

  public HubConfig config() {
    return config;
  }

  public MeshCa ca() {
    return ca;
  }

  public Membership membership() {
    return membership;
  }

  public WatchHub watches() {
    return watches;
  }

  /** Blocks until the server terminates. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    health.enterTerminalState();
    if (relay != null) {
      relay.close();
    }
    watches.close();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    if (netty != null) {
      netty.close();
    }
    scheduler.shutdownNow();
    checkpointPool.shutdown();
    membership.close();
    if (etcdClient != null) {
      try {
        etcdClient.close();
      } catch (Exception e) {
        log.warn("closing the etcd client failed error=\"{}\"", e.toString());
      }
    }
    fanoutPool.shutdown();
    if (metricsListener != null) {
      metricsListener.close();
    }
    log.info("hub stopped");
  }
}
