package io.meshwire.loadtests.jmh;

import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.wire.ProtoEventCodec;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Encoding one membership change as the hub does once per change ({@code ProtoEventCodec.encodeEvent}). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class EventCodecBenchmark {

  private final ProtoEventCodec codec = new ProtoEventCodec();
  private MembershipEvent event;

  @Setup
  public void setUp() {
    event = new MembershipEvent.ClusterUpserted(Fixtures.record(4242, 7).accepted(Instant.now(), 123_456));
  }

  @Benchmark
  public byte[] encodeClusterUpserted() {
    return codec.encodeEvent(123_456, event);
  }
}
