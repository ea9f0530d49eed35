package io.meshwire.loadtests.jmh;

import io.meshwire.hub.log.MembershipLog;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.watch.ProtoWatchCodec;
import io.meshwire.hub.watch.WatchHub;
import io.meshwire.hub.watch.WatchSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One change fanned out by {@link WatchHub} to K in-process subscribers whose sinks are always
 * ready (no transport): from {@code upsert} until every sink got the change. The drain pool has
 * as many threads as the hub uses (the CPU count, at least 2).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FanoutBenchmark {

  @Param({"100", "1000"})
  public int subscribers;

  private ExecutorService drain;
  private ScheduledExecutorService scheduler;
  private MembershipLog log;
  private WatchHub hub;
  private final AtomicLong delivered = new AtomicLong();
  private long generation;

  /** A sink that is always ready and counts what it is sent. */
  private final class CountingSink implements WatchSink {
    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void send(byte[] encodedEvent) {
      delivered.incrementAndGet();
    }

    @Override
    public void fail(Failure failure) {}
  }

  @Setup(Level.Trial)
  public void setUp() throws Rejection {
    drain = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()));
    scheduler = Executors.newSingleThreadScheduledExecutor();
    log = Fixtures.log(new InMemoryStore(), drain);
    log.upsert(Fixtures.record(0, ++generation)).join();
    hub = new WatchHub(log, new ProtoWatchCodec(), new WatchHub.Options(Duration.ofHours(1), 500, 64,
        16_384, Duration.ofSeconds(2), 256), drain, scheduler, new SimpleMeterRegistry());
    List<WatchHub.Subscription> subs = new ArrayList<>();
    for (int i = 0; i < subscribers; i++) {
      subs.add(hub.subscribe("a-" + i, log.durableRevision(), log.meshUid(), new CountingSink()));
    }
    // hello and caught_up per subscriber; wait until they are out.
    awaitDelivered(2L * subscribers);
  }

  @Benchmark
  public long changeToAllSubscribers() throws Rejection {
    long target = delivered.get() + subscribers;
    log.upsert(Fixtures.record(0, ++generation)).join();
    awaitDelivered(target);
    return target;
  }

  private void awaitDelivered(long target) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (delivered.get() < target) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("fan-out stalled: " + delivered.get() + " of " + target + " delivered");
      }
      Thread.onSpinWait();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    hub.close();
    scheduler.shutdownNow();
    drain.shutdownNow();
  }
}
