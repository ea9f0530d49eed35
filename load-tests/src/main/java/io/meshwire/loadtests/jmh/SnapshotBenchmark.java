package io.meshwire.loadtests.jmh;

import io.meshwire.hub.log.MembershipLog;
import io.meshwire.hub.log.SnapshotImage;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.watch.ProtoWatchCodec;
import io.meshwire.hub.watch.WatchCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Building a snapshot the way {@code WatchHub} does when its cached one is stale: the log's image
 * at the head, then every chunk of {@code chunkSize} records encoded (500 is the hub's default).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SnapshotBenchmark {

  @Param({"1000", "10000"})
  public int clusters;

  @Param({"500"})
  public int chunkSize;

  private final WatchCodec codec = new ProtoWatchCodec();
  private MembershipLog log;

  @Setup(Level.Trial)
  public void setUp() throws Rejection {
    log = Fixtures.log(new InMemoryStore(), Runnable::run);
    for (int i = 0; i < clusters; i++) {
      log.upsert(Fixtures.record(i, 1)).join();
    }
  }

  @Benchmark
  public List<byte[]> imageAndChunks() {
    SnapshotImage image = log.image();
    var records = image.clusters();
    List<byte[]> chunks = new ArrayList<>();
    for (int i = 0, index = 0; i < records.size(); i += chunkSize, index++) {
      chunks.add(codec.clusterChunk(image.revision(), index, records.subList(i, Math.min(records.size(), i + chunkSize))));
    }
    return chunks;
  }
}
