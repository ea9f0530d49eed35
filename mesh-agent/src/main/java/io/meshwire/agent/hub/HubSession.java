package io.meshwire.agent.hub;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.netaddr.Backoff;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code HubSession} keeps the agent in session with the hub: connect (enrolling or renewing through
 * the {@link Connector}), announce the own record, then follow the Watch stream into {@link MeshSync}
 * until it ends, and again after a back-off, until {@link #close()}. The back-off is {@link Backoff}
 * (full jitter, the hub's hint on top, a short ceiling while connections are refused) and starts
 * over after a session that caught up; announces go through the hub circuit breaker.
 *
 * <p>Everything with an effect is injected: the connector (gRPC and credential files in the agent,
 * fakes in tests), the back-off's random source, the {@link Sleeper} and the clock, so every branch
 * of the loop runs in a unit test in milliseconds.
 *
 * <p>Threads: {@link #run()} runs on one thread (the agent gives it a virtual thread) and owns the
 * loop's state; {@link #connected()} and {@link #connectedHub()} may be read from any thread.
 */
public final class HubSession implements Runnable, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HubSession.class);

  /** How often a refused agent asks again (a replaced certificate, the hub's clock catching up). */
  public static final Duration HELD_RETRY = Duration.ofMinutes(10);

  /** How the session reaches the hub: the cluster identity in the agent. */
  public interface Connector {
    /** The hub connection, enrolling first when there is no certificate yet. */
    HubConnection connect() throws IOException;

    /** Renews the certificate through {@code hub} once it is due. */
    void renewIfDue(HubConnection hub);

    /** The connection made by {@link #connect()}, if any (to rotate it after a failure). */
    Optional<HubConnection> current();

    /** Drops the connection, so the next {@link #connect()} reads the credentials again. */
    void reset();
  }

  /** Waits out the back-off; {@code Thread::sleep} in the agent, a recorder in tests. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration delay) throws InterruptedException;
  }

  private final Connector connector;
  private final MeshSync sync;
  private final Function<AgentState, ClusterRecord> ownRecord;
  private final Runnable announced;
  private final Backoff backoff;
  private final CircuitBreaker breaker;
  private final Sleeper sleeper;
  private final InstantSource clock;
  private final AtomicLong failures = new AtomicLong();
  private volatile HubState state;
  private volatile boolean running = true;
  private volatile Thread thread;

  /**
   * @param ownRecord the record to announce, built from the state (its own generation set)
   * @param announced called after each successful announce (views go after it: the hub needs the
   *     record first)
   */
  public HubSession(Connector connector, MeshSync sync, Function<AgentState, ClusterRecord> ownRecord,
      Runnable announced, Backoff backoff, CircuitBreaker breaker, Sleeper sleeper, InstantSource clock) {
    this.connector = connector;
    this.sync = sync;
    this.ownRecord = ownRecord;
    this.announced = announced;
    this.backoff = backoff;
    this.breaker = breaker;
    this.sleeper = sleeper;
    this.clock = clock;
    this.state = new HubState(HubState.Condition.CONNECTING, clock.instant(), "");
  }

  /**
   * The breaker around hub calls shared by announces and status reports: opens at half of the
   * last six calls failed, stays open 15 s.
   */
  public static CircuitBreaker newBreaker() {
    return CircuitBreaker.of("hub", CircuitBreakerConfig.custom()
        .failureRateThreshold(50)
        .slidingWindowSize(6)
        .minimumNumberOfCalls(3)
        .waitDurationInOpenState(Duration.ofSeconds(15))
        // A refused connection means no hub process listens: there is nothing to protect, and an
        // open breaker would keep the agent away for 15 s after the hub is back (Backoff.REFUSED_CAP).
        .ignoreException(Backoff::connectionRefused)
        .build());
  }

  /** Whether a session is up (announced, Watch running). */
  public boolean connected() {
    return state.condition() == HubState.Condition.CONNECTED;
  }

  /** The session's condition now. */
  public HubState state() {
    return state;
  }

  /** Attempts that failed (refused, unreachable, or a stream that ended), for the metrics. */
  public long failures() {
    return failures.get();
  }

  /** The hub connection while a session is up. */
  public Optional<HubConnection> connectedHub() {
    return connected() ? connector.current() : Optional.empty();
  }

  /**
   * The session loop: returns after {@link #close()}, when its thread is interrupted, or when the
   * hub revoked the cluster's certificate.
   */
  @Override
  public void run() {
    thread = Thread.currentThread();
    int attempt = 0;
    while (running) {
      Optional<Duration> hint = Optional.empty();
      boolean refused;
      Throwable failure;
      try {
        HubConnection client = connector.connect();
        connector.renewIfDue(client);
        announce(client);
        announced.run();
        HubClient.WatchEnd ended = client.watch(sync.state().revision(), sync.state().meshUid(), sync).get();
        Status end = ended.status();
        hint = ended.retryAfter();
        refused = end.getCause() != null && Backoff.connectionRefused(end.getCause());
        if (sync.caughtUp()) {
          attempt = 0; // a healthy session: start the backoff over
        }
        failure = end.asRuntimeException();
        log.info("hub stream ended hub={} status={} description=\"{}\"", client.currentHub(), end.getCode(),
            oneLine(end.getDescription()));
        state = new HubState(HubState.Condition.UNREACHABLE, clock.instant(), describe(failure));
        client.rotate();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | ExecutionException | IOException e) {
        failure = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        hint = HubErrors.retryAfter(failure); // e.g. an announce refused as overloaded, with the hub's wait
        refused = Backoff.connectionRefused(e);
        connector.current().ifPresent(HubConnection::rotate);
      }
      failures.incrementAndGet();
      if (!running) {
        return;
      }
      Optional<HubState.Condition> refusal = HubErrors.refusal(failure);
      if (refusal.isPresent()) {
        hold(refusal.get(), failure);
        if (refusal.get() == HubState.Condition.REVOKED) {
          return; // nothing but an operator (rejoin) brings a revoked cluster back
        }
        attempt = 0;
        connector.reset(); // credentials may have been replaced on disk meanwhile
        if (!pause(HELD_RETRY)) {
          return;
        }
        continue;
      }
      unreachable(failure);
      if (!pause(backoff.delay(++attempt, hint, refused))) {
        return;
      }
    }
  }

  /** Waits {@code delay}; false when interrupted (the agent is closing). */
  private boolean pause(Duration delay) {
    try {
      sleeper.sleep(delay); // the backoff itself: waiting is the point here
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** A failure another attempt may fix: logged when the hub becomes unreachable, not on every attempt. */
  private void unreachable(Throwable failure) {
    HubState was = state;
    String detail = describe(failure);
    if (was.condition() == HubState.Condition.UNREACHABLE) {
      state = new HubState(HubState.Condition.UNREACHABLE, was.since(), detail);
      log.debug("hub still unreachable since={} error=\"{}\"", was.since(), detail);
      return;
    }
    state = new HubState(HubState.Condition.UNREACHABLE, clock.instant(), detail);
    log.info("hub unreachable since={} error=\"{}\"", state.since(), detail);
  }

  /** A refusal no retry fixes: logged once, at WARN (an operator must act). */
  private void hold(HubState.Condition condition, Throwable failure) {
    HubState was = state;
    String detail = describe(failure);
    if (was.condition() == condition) {
      state = new HubState(condition, was.since(), detail);
      log.debug("hub still refuses the agent condition={} error=\"{}\"", condition, detail);
      return;
    }
    state = new HubState(condition, clock.instant(), detail);
    if (condition == HubState.Condition.REVOKED) {
      log.warn("hub revoked this cluster's certificate: session stopped; rejoin with a new join token"
          + " error=\"{}\"", detail);
    } else {
      log.warn("hub refuses this agent: retrying every {} s; an operator must act error=\"{}\"",
          HELD_RETRY.toSeconds(), detail);
    }
  }

  /** The failure in words; a hub of another CA or mesh says what that means instead of "io exception". */
  private static String describe(Throwable failure) {
    return oneLine(HubErrors.hubIdentityChanged(failure).orElse(failure.getMessage()));
  }

  /** The hub's words, on one line and at most 200 characters (they end up in logs and /status). */
  private static String oneLine(String text) {
    String line = String.valueOf(text).replaceAll("[\\r\\n\\t\"]", " ");
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }

  /** Announces the own record with a generation greater than any before it (persisted first). */
  private void announce(HubConnection client) {
    AgentState s = sync.update(st -> st.withOwnGeneration(Math.max(st.ownGeneration() + 1, clock.millis())));
    ClusterRecord record = ownRecord.apply(s);
    Retry retry = Retry.of("announce", RetryConfig.custom()
        .maxAttempts(3)
        .intervalBiFunction(HubErrors.retryInterval(backoff))
        .retryOnException(e -> e instanceof StatusRuntimeException sre
            && sre.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED)
        .build());
    long revision = breaker.executeSupplier(Retry.decorateSupplier(retry, () -> client.announce(record)));
    HubState was = state;
    Instant now = clock.instant();
    state = new HubState(HubState.Condition.CONNECTED, now, "");
    if (was.condition() == HubState.Condition.UNREACHABLE) {
      log.info("hub back after_seconds={} hub={} cluster={} generation={} revision={}",
          Duration.between(was.since(), now).toSeconds(), client.currentHub(), record.getClusterId(),
          record.getGeneration(), revision);
    } else {
      log.info("hub connected hub={} cluster={} generation={} revision={}", client.currentHub(),
          record.getClusterId(), record.getGeneration(), revision);
    }
  }

  /** Stops the loop; a sleeping or watching session is interrupted. */
  @Override
  public void close() {
    running = false;
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      t.interrupt();
    }
  }
}
