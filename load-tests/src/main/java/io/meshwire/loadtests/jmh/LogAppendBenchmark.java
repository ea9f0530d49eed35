package io.meshwire.loadtests.jmh;

import io.meshwire.hub.log.MembershipLog;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.store.FileLogStore;
import io.meshwire.hub.store.MembershipStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * One Announce's work in the membership log ({@code MembershipLog.upsert}) until durable: over the
 * real {@link FileLogStore} in a temp directory ({@code file}: one fsync per change, as one
 * announcer at a time gets) or over a store that acknowledges at once ({@code memory}: the log's
 * own cost).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LogAppendBenchmark {

  private static final int CLUSTERS = 1000;

  @Param({"memory", "file"})
  public String store;

  private Path dir;
  private ExecutorService notify;
  private MembershipLog log;
  private final long[] generations = new long[CLUSTERS];
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws IOException, io.meshwire.hub.store.StoreException {
    notify = Executors.newSingleThreadExecutor();
    MembershipStore s;
    if (store.equals("file")) {
      dir = Files.createTempDirectory("meshwire-jmh-log-");
      s = FileLogStore.open(dir, FileLogStore.Options.defaults(), new SimpleMeterRegistry());
    } else {
      s = new InMemoryStore();
    }
    log = Fixtures.log(s, notify);
  }

  @Benchmark
  public long upsertUntilDurable() throws Rejection {
    int i = next++ % CLUSTERS;
    return log.upsert(Fixtures.record(i, ++generations[i])).join();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    log.close();
    notify.shutdownNow();
    if (dir != null) {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
