package io.meshwire.agent.status;

import static io.meshwire.agent.state.TestStates.key;
import static io.meshwire.agent.state.TestStates.peer;
import static io.meshwire.agent.state.TestStates.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.Status;
import io.meshwire.agent.hub.FakeHubConnection;
import io.meshwire.agent.hub.HubConnection;
import io.meshwire.agent.hub.HubSession;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.wireguard.LinkHealth;
import io.meshwire.agent.wireguard.ShownWireGuard;
import io.meshwire.agent.wireguard.WgInterfaceState;
import io.meshwire.agent.wireguard.WgPeerState;
import io.meshwire.agent.wireguard.WireGuard;
import io.meshwire.certs.FakeClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Link observation and status reports: what reaches the hub and the listeners, and failures that
 * are counted, shown, and logged once per change rather than on every tick.
 */
class StatusReporterTest {

  private static final AgentState STATE = state("mesh", 1, peer("west", 2));

  private final FakeClock clock = new FakeClock();
  private final FakeHubConnection hub = new FakeHubConnection();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<Map<String, LinkHealth>> observed = new ArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private RuntimeException wgFailure;
  private Optional<HubConnection> connected = Optional.of(hub);

  private final WireGuard wg = new ShownWireGuard(() -> {
    if (wgFailure != null) {
      throw wgFailure;
    }
    return new WgInterfaceState(key(0x77), key(0x78), 51820, List.of(new WgPeerState(key(2), Optional.empty(),
        List.of(), Optional.of(clock.instant()), 1000, 500, Duration.ofSeconds(3))));
  });

  private final StatusReporter reporter = new StatusReporter(
      new LinkMonitor(wg, "mw0", Duration.ofSeconds(10), () -> STATE, clock), () -> connected,
      HubSession.newBreaker(), clock, observed::add, meters);

  @BeforeEach
  void captureLogs() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(StatusReporter.class)).addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    ((Logger) LoggerFactory.getLogger(StatusReporter.class)).detachAppender(logs);
  }

  private long count(Level level) {
    return logs.list.stream().filter(e -> e.getLevel() == level).count();
  }

  private double counter(String name) {
    return meters.get(name).counter().count();
  }

  @Test
  void observedLinksGoToTheListenersTheStatusAndTheHub() {
    reporter.observe();
    assertEquals(List.of(Map.of("west", LinkHealth.UP)), observed);
    assertEquals("west", reporter.lastLinks().get(0).clusterId());
    assertEquals(1, hub.reports.size());
    assertEquals("west", hub.reports.get(0).getPeers(0).getPeerClusterId());
  }

  @Test
  void withoutAHubSessionNothingIsReported() {
    connected = Optional.empty();
    reporter.observe();
    assertEquals(1, observed.size());
    assertEquals(List.of(), hub.reports);
  }

  @Test
  void aBrokenWgIsCountedShownAndLoggedOncePerChange() {
    reporter.observe();
    wgFailure = new IllegalStateException("wg show mw0: exit 1: Unable to access interface");
    for (int i = 0; i < 5; i++) {
      reporter.observe();
    }
    assertEquals(5, counter("meshwire.agent.links.observation.failures"));
    assertEquals(Optional.of("wg show mw0: exit 1: Unable to access interface"), reporter.observationProblem());
    assertEquals(1, count(Level.WARN));
    assertEquals(1, reporter.lastLinks().size(), "the last links seen are kept");
    wgFailure = null;
    reporter.observe();
    assertEquals(Optional.empty(), reporter.observationProblem());
    assertEquals(1, count(Level.INFO), "recovery logged once");
  }

  @Test
  void failedReportsAreCountedAndLoggedOncePerChange() {
    hub.reportFailure = Status.INVALID_ARGUMENT.withDescription("peers[0].endpoint: bad").asRuntimeException();
    reporter.observe();
    reporter.observe(); // two: a third failure would open the breaker, which skips reports uncounted
    assertEquals(2, counter("meshwire.agent.hub.status.report.failures"));
    assertEquals(1, count(Level.WARN));
    assertTrue(reporter.reportProblem().orElseThrow().contains("peers[0].endpoint"));
    hub.reportFailure = null;
    reporter.observe();
    assertEquals(Optional.empty(), reporter.reportProblem());
    assertEquals(1, hub.reports.size());
  }

  @Test
  void aTrackedLinksPathAndSwitchTimeGoToTheHubAndAnUntrackedOneStaysUnspecified() {
    java.time.Instant since = clock.instant().minusSeconds(42);
    io.meshwire.agent.path.LinkPath relayed = io.meshwire.agent.path.LinkPath.restored(
        io.meshwire.agent.path.Path.RELAYED, since, Duration.ofSeconds(5), clock.instant(),
        io.meshwire.agent.path.PathPolicy.defaults());
    StatusReporter withPaths = new StatusReporter(
        new LinkMonitor(wg, "mw0", Duration.ofSeconds(10), () -> STATE, clock), () -> connected,
        HubSession.newBreaker(), clock, observed::add, peer -> peer.equals("west") ? relayed : null,
        new SimpleMeterRegistry());

    withPaths.observe();
    reporter.observe();

    var west = hub.reports.get(0).getPeers(0);
    assertEquals(io.meshwire.proto.rendezvous.v1.LinkPath.LINK_PATH_RELAYED, west.getPath());
    assertEquals(since.getEpochSecond(), west.getPathSince().getSeconds());
    var withoutSelection = hub.reports.get(1).getPeers(0);
    assertEquals(io.meshwire.proto.rendezvous.v1.LinkPath.LINK_PATH_UNSPECIFIED, withoutSelection.getPath());
    assertTrue(!withoutSelection.hasPathSince(), "no relays: no switch time");
  }

  @Test
  void aDirectLinkWhoseProbesGoUnansweredReadsDownAtOnceAndTheChangeIsLoggedOnce() {
    io.meshwire.agent.path.PathPolicy policy = io.meshwire.agent.path.PathPolicy.defaults();
    java.util.concurrent.atomic.AtomicReference<io.meshwire.agent.path.LinkPath> west =
        new java.util.concurrent.atomic.AtomicReference<>(io.meshwire.agent.path.LinkPath.start(clock.instant(), policy)
            .next(io.meshwire.agent.path.Observation.of(clock.instant(), io.meshwire.agent.path.Evidence.ALIVE, false),
                policy));
    StatusReporter withPaths = new StatusReporter(
        new LinkMonitor(wg, "mw0", Duration.ofSeconds(75), () -> STATE, clock), () -> connected,
        HubSession.newBreaker(), clock, observed::add, peer -> west.get(), new SimpleMeterRegistry());
    withPaths.observe();
    assertEquals(LinkHealth.UP, withPaths.lastLinks().get(0).health());

    for (int i = 1; i <= StatusReporter.SILENT_MISSES; i++) {
      west.set(west.get().next(io.meshwire.agent.path.Observation.of(clock.instant().plusSeconds(i),
          io.meshwire.agent.path.Evidence.MISS, false), policy));
      withPaths.observe();
    }

    assertEquals(LinkHealth.DOWN, withPaths.lastLinks().get(0).health(), "two unanswered probes, not 75 s");
    assertEquals(io.meshwire.proto.rendezvous.v1.LinkState.LINK_STATE_DOWN, hub.reports.getLast().getPeers(0).getState());
    assertEquals(1, logs.list.stream().filter(e -> e.getFormattedMessage().contains("event=link_health_changed")
        && e.getFormattedMessage().contains("to=DOWN")).count());
  }
}
