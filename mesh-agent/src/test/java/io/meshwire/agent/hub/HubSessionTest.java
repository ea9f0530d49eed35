package io.meshwire.agent.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.certs.FakeClock;
import io.meshwire.netaddr.Backoff;
import io.meshwire.netaddr.PinnedRandom;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The hub session loop on a fake hub, a fake clock and a recording sleeper: which failures are
 * retried and how soon, what the breaker does, which refusals hold the agent, and what it logs.
 * Runs in milliseconds: nothing waits.
 */
class HubSessionTest {

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private final FakeHubConnection hub = new FakeHubConnection();
  private final Deque<Throwable> connectFailures = new ArrayDeque<>();
  private final List<Duration> sleeps = new ArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private MeshSync sync;
  private HubSession session;
  private int connects;
  private int resets;
  private int maxSleeps = 10;
  private CircuitBreaker breaker = HubSession.newBreaker();

  @BeforeEach
  void setUp() {
    sync = new MeshSync("east", AgentState.initial(TestStates.key(0x77)),
        new StateFile(dir.resolve("state.bin"), clock), false, s -> { });
    Logger logger = (Logger) LoggerFactory.getLogger(HubSession.class);
    logger.setLevel(Level.DEBUG);
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    ((Logger) LoggerFactory.getLogger(HubSession.class)).detachAppender(logs);
  }

  private HubSession session() {
    return session(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(15), PinnedRandom.HIGHEST));
  }

  private HubSession session(Backoff backoff) {
    HubSession.Connector connector = new HubSession.Connector() {
      @Override
      public HubConnection connect() throws IOException {
        connects++;
        Throwable t = connectFailures.poll();
        if (t instanceof IOException io) {
          throw io;
        }
        if (t instanceof RuntimeException re) {
          throw re;
        }
        return hub;
      }

      @Override
      public void renewIfDue(HubConnection h) { }

      @Override
      public Optional<HubConnection> current() {
        return Optional.of(hub);
      }

      @Override
      public void reset() {
        resets++;
      }
    };
    session = new HubSession(connector, sync, s -> ClusterRecord.newBuilder().setClusterId("east")
        .setGeneration(s.ownGeneration()).build(), () -> { }, backoff, breaker,
        delay -> {
          sleeps.add(delay);
          clock.advance(delay);
          if (sleeps.size() >= maxSleeps) {
            session.close();
          }
        }, clock);
    return session;
  }

  private static StatusRuntimeException unavailable() {
    return Status.UNAVAILABLE.withDescription("io exception").asRuntimeException();
  }

  private static StatusRuntimeException refusedConnection() {
    return Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new ConnectException("Connection refused: /127.0.0.1:7443")).asRuntimeException();
  }

  private static StatusRuntimeException withHint(Status.Code code, Duration hint) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(code.value()).setMessage("hub overloaded")
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
            .setSeconds(hint.toSeconds())).build()))
        .build());
  }

  private List<String> messages(Level level) {
    return logs.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void anUnreachableHubIsRetriedWithDoublingDelaysUpToTheCap() {
    for (int i = 0; i < 10; i++) {
      connectFailures.add(unavailable());
    }
    session().run();
    assertEquals(List.of(200L, 400L, 800L, 1600L, 3200L, 6400L, 12800L, 15000L, 15000L, 15000L),
        sleeps.stream().map(Duration::toMillis).toList());
    assertEquals(HubState.Condition.UNREACHABLE, session.state().condition());
    assertEquals(FakeClock.T0, session.state().since(), "unreachable since the first failure");
    assertEquals(10, session.failures());
  }

  @Test
  void refusedConnectionsAreRetriedWithinTheShortCeiling() {
    for (int i = 0; i < 10; i++) {
      connectFailures.add(refusedConnection());
    }
    session().run();
    assertEquals(Backoff.REFUSED_CAP, sleeps.stream().max(Duration::compareTo).orElseThrow());
    assertEquals(List.of(200L, 400L, 800L, 1600L, 2000L), sleeps.subList(0, 5).stream().map(Duration::toMillis).toList());
  }

  @Test
  void theHubsBackOffHintIsWaitedOnTopOfTheJitter() {
    hub.watchEnds.add(new HubClient.WatchEnd(Status.RESOURCE_EXHAUSTED, Optional.of(Duration.ofSeconds(30))));
    maxSleeps = 1;
    session().run();
    assertEquals(List.of(Duration.ofSeconds(30).plusMillis(200)), sleeps);
  }

  @Test
  void aHintInAnAnnounceRefusalIsHonouredByTheRetry() {
    connectFailures.add(withHint(Status.Code.UNAVAILABLE, Duration.ofSeconds(20)));
    maxSleeps = 1;
    session().run();
    assertEquals(List.of(Duration.ofSeconds(20).plusMillis(200)), sleeps);
  }

  @Test
  void aSessionThatCaughtUpStartsTheBackOffOver() {
    connectFailures.add(unavailable());
    connectFailures.add(unavailable());
    connectFailures.add(unavailable());
    hub.catchUpOnWatch = true;
    maxSleeps = 4;
    session().run();
    // three failures (200, 400, 800), then a session that caught up and ended: the next wait is the base again
    assertEquals(List.of(200L, 400L, 800L, 200L), sleeps.stream().map(Duration::toMillis).toList());
  }

  @Test
  void aSessionThatNeverCaughtUpKeepsGrowingTheBackOff() {
    connectFailures.add(unavailable());
    connectFailures.add(unavailable());
    maxSleeps = 3;
    session().run();
    assertEquals(List.of(200L, 400L, 800L), sleeps.stream().map(Duration::toMillis).toList());
  }

  @Test
  void aConnectedSessionAnnouncesWithAGrowingPersistedGenerationAndIsReportedConnected() {
    hub.onWatch = () -> {
      assertTrue(session.connected());
      assertEquals(HubState.Condition.CONNECTED, session.state().condition());
      assertTrue(session.connectedHub().isPresent());
    };
    maxSleeps = 2;
    session().run();
    assertEquals(2, hub.announced.size());
    assertTrue(hub.announced.get(1).getGeneration() > hub.announced.get(0).getGeneration());
    assertEquals(hub.announced.get(1).getGeneration(), sync.state().ownGeneration());
    assertFalse(session.connected(), "after the stream ended");
    assertTrue(session.connectedHub().isEmpty());
  }

  @Test
  void aRevokedCertificateStopsTheSessionAndSaysSo() {
    connectFailures.add(Status.UNAUTHENTICATED
        .withDescription("certificate of spiffe://m/cluster/east is revoked").asRuntimeException());
    session().run(); // returns by itself: no close
    assertEquals(1, connects, "no second attempt");
    assertEquals(List.of(), sleeps);
    assertEquals(HubState.Condition.REVOKED, session.state().condition());
    assertTrue(session.state().detail().contains("revoked"));
    assertEquals(1, messages(Level.WARN).size());
    assertTrue(messages(Level.WARN).get(0).contains("revoked"), messages(Level.WARN).toString());
  }

  @Test
  void aRevocationEndingTheLiveStreamStopsTheSession() {
    hub.watchEnds.add(new HubClient.WatchEnd(
        Status.PERMISSION_DENIED.withDescription("certificate of cluster east revoked"), Optional.empty()));
    session().run();
    assertEquals(HubState.Condition.REVOKED, session.state().condition());
    assertEquals(1, connects);
    assertEquals(List.of(), sleeps);
  }

  @Test
  void aSpentJoinTokenHoldsTheAgentAndAsksOnlyRarely() {
    for (int i = 0; i < 3; i++) {
      connectFailures.add(Status.UNAUTHENTICATED
          .withDescription("join_token: rejected (unknown, expired, used or revoked)").asRuntimeException());
    }
    maxSleeps = 3;
    session().run();
    assertEquals(HubState.Condition.REFUSED, session.state().condition());
    assertEquals(List.of(HubSession.HELD_RETRY, HubSession.HELD_RETRY, HubSession.HELD_RETRY), sleeps);
    assertEquals(3, resets, "credentials are read again before each retry");
    assertEquals(FakeClock.T0, session.state().since(), "held since the first refusal");
    assertEquals(1, messages(Level.WARN).size(), "one warning per state change, not per attempt");
  }

  @Test
  void aWireGuardKeyHeldByAnotherClusterHoldsTheAgent() {
    hub.announceFailures.add(Optional.of(Status.ALREADY_EXISTS
        .withDescription("record.wireguard_public_key: held by cluster west").asRuntimeException()));
    maxSleeps = 1;
    session().run();
    assertEquals(HubState.Condition.REFUSED, session.state().condition());
    assertEquals(List.of(HubSession.HELD_RETRY), sleeps);
  }

  @Test
  void aRefusedAgentWhoseCredentialsWereReplacedConnectsAgain() {
    connectFailures.add(Status.UNAUTHENTICATED.withDescription("client certificate rejected (EXPIRED)")
        .asRuntimeException());
    List<HubState.Condition> whileWatching = new ArrayList<>();
    hub.onWatch = () -> {
      whileWatching.add(session.state().condition());
      session.close();
    };
    session().run();
    assertEquals(List.of(HubState.Condition.CONNECTED), whileWatching);
    assertEquals(List.of(HubSession.HELD_RETRY), sleeps);
  }

  @Test
  void anOutageIsLoggedWhenItStartsAndEndsNotOnEveryAttempt() {
    breaker = CircuitBreaker.ofDefaults("test"); // the outage, not the breaker, is under test here
    hub.catchUpOnWatch = true;
    hub.onWatch = () -> {
      if (hub.watches == 2) {
        session.close();
      }
    };
    hub.announceFailures.add(Optional.empty()); // a session, its stream ends, 50 failed attempts, a session
    for (int i = 0; i < 50; i++) {
      hub.announceFailures.add(Optional.of(i % 2 == 0 ? unavailable() : refusedConnection()));
    }
    maxSleeps = 100;
    session().run();
    List<String> info = messages(Level.INFO);
    assertEquals(4, info.size(), info.toString());
    assertTrue(info.get(0).startsWith("hub connected"), info.get(0));
    assertTrue(info.get(1).startsWith("hub stream ended"), info.get(1));
    long outageSeconds = sleeps.stream().mapToLong(Duration::toMillis).sum() / 1000;
    assertTrue(info.get(2).startsWith("hub back after_seconds=" + outageSeconds + " "), info.get(2));
    assertTrue(info.get(3).startsWith("hub stream ended"), info.get(3));
    assertEquals(51, messages(Level.DEBUG).stream().filter(m -> m.startsWith("hub still unreachable")).count());
    assertEquals(List.of(), messages(Level.WARN));
  }

  @Test
  void theBreakerOpensOnFailingAnnouncesAndSpareTheHub() {
    for (int i = 0; i < 8; i++) {
      hub.announceFailures.add(Optional.of(unavailable()));
    }
    maxSleeps = 8;
    session().run();
    assertEquals(CircuitBreaker.State.OPEN, breaker.getState());
    assertTrue(hub.announceCalls < 8, "calls while open fail fast: " + hub.announceCalls);
    assertEquals(8, connects);
  }

  @Test
  void refusedConnectionsDoNotOpenTheBreaker() {
    for (int i = 0; i < 8; i++) {
      hub.announceFailures.add(Optional.of(refusedConnection()));
    }
    maxSleeps = 8;
    session().run();
    assertEquals(CircuitBreaker.State.CLOSED, breaker.getState());
    assertEquals(8, hub.announceCalls, "every attempt reaches the hub");
  }

  @Test
  void anOverloadedAnnounceIsRetriedWithinTheAttempt() {
    hub.announceFailures.add(Optional.of(Status.RESOURCE_EXHAUSTED.asRuntimeException()));
    maxSleeps = 1;
    session(new Backoff(Duration.ZERO, Duration.ZERO, PinnedRandom.HIGHEST)).run(); // the retry's waits are zero
    assertEquals(2, hub.announceCalls);
    assertEquals(1, hub.watches, "the second announce went through and the Watch ran");
  }

  @Test
  void closingStopsTheLoopBeforeTheNextAttempt() {
    connectFailures.add(unavailable());
    maxSleeps = 1;
    session().run();
    assertEquals(1, connects);
  }
}
