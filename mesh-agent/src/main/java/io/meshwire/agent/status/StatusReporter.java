package io.meshwire.agent.status;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.meshwire.agent.hub.HubConnection;
import io.meshwire.agent.path.LinkPath;
import io.meshwire.agent.path.PathStateFile;
import io.meshwire.agent.status.LinkMonitor.PeerLink;
import io.meshwire.agent.wire.AgentProtoMapper;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.proto.rendezvous.v1.LinkState;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code StatusReporter} observes the WireGuard links on each tick of the agent's status timer,
 * keeps the last observation for {@code /status} and metrics, hands the links' health to whoever
 * listens (reflection), and reports them to the hub while a session is up (through the hub circuit
 * breaker, so a hub that is down is not called on every tick). A failing observation or report is
 * counted, logged at WARN when it starts and at INFO when it ends (DEBUG in between), and shown in
 * {@code /status}: a broken {@code wg} never leaves the status silently stale.
 *
 * <p>Fast DOWN: a direct link whose path selection counted {@value #SILENT_MISSES} unanswered
 * probes in a row (it sent, nothing came back, and the peer's probe port did not answer) reads
 * DOWN at once, a few seconds after a blackhole, instead of after {@code --link-down-after}. Every
 * change of a link's health is logged once ({@code event=link_health_changed}).
 *
 * <p>Thread-safety: {@link #observe()} runs on one thread (the status timer); {@link #lastLinks()}
 * may be read from any thread.
 */
public final class StatusReporter {

  private static final Logger log = LoggerFactory.getLogger(StatusReporter.class);
  static final int SILENT_MISSES = 2;

  private final LinkMonitor links;
  private final Supplier<Optional<HubConnection>> hub;
  private final CircuitBreaker breaker;
  private final InstantSource clock;
  private final Consumer<Map<String, LinkHealth>> observed;
  private final Function<String, LinkPath> paths;
  private final AtomicReference<List<PeerLink>> lastLinks = new AtomicReference<>(List.of());
  /** Status timer only: each peer's health at the last observation, to log changes once. */
  private final Map<String, LinkHealth> lastHealth = new java.util.HashMap<>();
  private final Counter observationFailures;
  private final Counter reportFailures;
  // Written by the status timer only; read by /status.
  private volatile Optional<String> observationProblem = Optional.empty();
  private volatile Optional<String> reportProblem = Optional.empty();

  /**
   * @param hub the hub connection while a session is up
   * @param observed told each observation's health per peer
   */
  public StatusReporter(LinkMonitor links, Supplier<Optional<HubConnection>> hub, CircuitBreaker breaker,
      InstantSource clock, Consumer<Map<String, LinkHealth>> observed, MeterRegistry meters) {
    this(links, hub, breaker, clock, observed, peer -> null, meters);
  }

  /**
   * A reporter that also reports each link's path to the hub.
   *
   * @param paths a peer's path selection state, or null when it is not tracked (no relays)
   */
  public StatusReporter(LinkMonitor links, Supplier<Optional<HubConnection>> hub, CircuitBreaker breaker,
      InstantSource clock, Consumer<Map<String, LinkHealth>> observed, Function<String, LinkPath> paths,
      MeterRegistry meters) {
    this.paths = paths;
    this.observationFailures = Counter.builder("meshwire.agent.links.observation.failures")
        .description("Link observations that failed (wg show): /status keeps the last links seen").register(meters);
    this.reportFailures = Counter.builder("meshwire.agent.hub.status.report.failures")
        .description("Status reports the hub did not take (the breaker's skips not counted)").register(meters);
    this.links = links;
    this.hub = hub;
    this.breaker = breaker;
    this.clock = clock;
    this.observed = observed;
  }

  /** The links as last observed (empty before the first observation). */
  public List<PeerLink> lastLinks() {
    return lastLinks.get();
  }

  /** Why the last link observation failed; empty when it worked. */
  public Optional<String> observationProblem() {
    return observationProblem;
  }

  /** Why the last status report to the hub failed; empty when it worked. */
  public Optional<String> reportProblem() {
    return reportProblem;
  }

  /** One tick: observe the links, pass their health on, report them to the hub if connected. */
  public void observe() {
    List<PeerLink> now;
    try {
      now = links.observe();
    } catch (RuntimeException e) {
      observationFailures.increment();
      observationProblem = failed("link observation", observationProblem, e);
      return;
    }
    observationProblem = recovered("link observation", observationProblem);
    now = now.stream().map(this::withSilence).toList();
    logChanges(now);
    lastLinks.set(now);
    observed.accept(now.stream().collect(Collectors.toMap(PeerLink::clusterId, PeerLink::health, (x, y) -> y)));
    Optional<HubConnection> client = hub.get();
    if (client.isEmpty()) {
      return;
    }
    ReportStatusRequest report = report(now);
    try {
      breaker.executeRunnable(() -> client.get().reportStatus(report));
      reportProblem = recovered("status report", reportProblem);
    } catch (CallNotPermittedException e) {
      // hub considered down: skip reports until the breaker half-opens
    } catch (RuntimeException e) {
      reportFailures.increment();
      reportProblem = failed("status report", reportProblem, e);
    }
  }

  private PeerLink withSilence(PeerLink l) {
    LinkPath path = paths.apply(l.clusterId());
    if (l.health() != LinkHealth.UP || path == null || path.path() != io.meshwire.agent.path.Path.DIRECT
        || path.misses() < SILENT_MISSES) {
      return l;
    }
    return new PeerLink(l.clusterId(), LinkHealth.DOWN, l.latestHandshake(), l.handshakeAge(), l.endpoint(),
        l.rxBytes(), l.txBytes());
  }

  private void logChanges(List<PeerLink> now) {
    java.util.Set<String> present = new java.util.HashSet<>();
    for (PeerLink l : now) {
      present.add(l.clusterId());
      LinkHealth was = lastHealth.put(l.clusterId(), l.health());
      if (was != null && was != l.health()) {
        LinkPath path = paths.apply(l.clusterId());
        log.info("event=link_health_changed peer={} from={} to={} path={}", l.clusterId(), was, l.health(),
            path == null ? "none" : path.path().label());
      }
    }
    lastHealth.keySet().retainAll(present);
  }

  /** A failure: WARN when it starts (or its reason changes), DEBUG while it repeats. */
  private static Optional<String> failed(String what, Optional<String> was, RuntimeException e) {
    String problem = String.valueOf(e.getMessage()).replaceAll("[\\r\\n]+", " ");
    if (was.filter(problem::equals).isPresent()) {
      log.debug("{} still failing error=\"{}\"", what, problem);
    } else {
      log.warn("{} failed error=\"{}\"", what, problem);
    }
    return Optional.of(problem);
  }

  private static Optional<String> recovered(String what, Optional<String> was) {
    if (was.isPresent()) {
      log.info("{} works again", what);
    }
    return Optional.empty();
  }

  private ReportStatusRequest report(List<PeerLink> observed) {
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
      LinkPath path = paths.apply(l.clusterId());
      if (path != null) {
        p.setPath(PathStateFile.toProto(path.path())).setPathSince(AgentProtoMapper.timestamp(path.since()));
      }
      report.addPeers(p);
    }
    return report.build();
  }
}
