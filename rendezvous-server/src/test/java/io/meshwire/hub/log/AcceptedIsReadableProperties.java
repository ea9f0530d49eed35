package io.meshwire.hub.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.store.FileLogStore;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.validation.WireValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * What the hub accepted, it can always read back: random records and views, valid and not
 * (IPv4-mapped and special ranges, catch-alls, wide prefixes, bad keys, ports, generations at the
 * edges of uint64...), go through the hub's write path (validator, then the membership log on a
 * real file store). Every accepted one is the same after a restart and a replay; every refused one
 * leaves the store as it was. Each try runs on a fresh store directory.
 */
class AcceptedIsReadableProperties {

  private static final WireValidator VALIDATOR = WireValidator.defaults();

  private ExecutorService pool;

  @BeforeProperty
  void pool() {
    pool = Executors.newFixedThreadPool(2);
  }

  @AfterProperty
  void shutdown() {
    pool.shutdownNow();
  }

  /** A store and its log, reopened by {@link #restart}. */
  private final class Hub implements AutoCloseable {
    final Path dir;
    MembershipLog log;

    Hub(Path dir) throws Exception {
      this.dir = dir;
      open();
    }

    private void open() throws Exception {
      log = new MembershipLog(FileLogStore.open(dir, FileLogStore.Options.defaults(), new SimpleMeterRegistry()),
          new ProtoEventCodec(VALIDATOR), InstantSource.system(), new MembershipLog.Options(64, 16), pool, pool);
    }

    void restart() throws Exception {
      log.close();
      open();
    }

    @Override
    public void close() throws IOException {
      log.close();
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  @Property(tries = 200)
  void acceptedRecordSurvivesRestartAndReplayAndRefusedOneChangesNothing(
      @ForAll("records") io.meshwire.proto.rendezvous.v1.ClusterRecord announced) throws Exception {
    try (Hub hub = new Hub(Files.createTempDirectory("mw-prop"))) {
      hub.log.upsert(ProtoMapper.fromProto(VALIDATOR, base("west", 2), "west")).get();
      List<ClusterRecord> before = hub.log.clusters();
      long revisionBefore = hub.log.durableRevision();
      boolean accepted;
      try {
        hub.log.upsert(ProtoMapper.fromProto(VALIDATOR, announced, announced.getClusterId())).get();
        accepted = true;
      } catch (Rejection refused) {
        accepted = false;
      }
      Statistics.label("outcome").collect(accepted ? "accepted" : "refused");
      List<ClusterRecord> written = hub.log.clusters();
      if (!accepted) {
        assertEquals(before, written, "a refused record changed the membership");
        assertEquals(revisionBefore, hub.log.durableRevision(), "a refused record was written");
      }
      hub.restart();
      assertEquals(written, hub.log.clusters(), "the membership changed across a restart and replay");
      // And the wire form the hub sends out reads back to the same record.
      for (ClusterRecord r : written) {
        assertEquals(r, ProtoMapper.fromStored(VALIDATOR, ProtoMapper.toProto(r)));
      }
    }
  }

  @Property(tries = 120)
  void acceptedViewSurvivesRestartAndReplayAndRefusedOneChangesNothing(
      @ForAll("views") io.meshwire.proto.rendezvous.v1.PeerView published) throws Exception {
    try (Hub hub = new Hub(Files.createTempDirectory("mw-prop"))) {
      hub.log.upsert(ProtoMapper.fromProto(VALIDATOR, base("west", 2), "west")).get();
      hub.log.upsert(ProtoMapper.fromProto(VALIDATOR, base("east", 1), "east")).get();
      long revisionBefore = hub.log.durableRevision();
      boolean accepted;
      try {
        PeerView view = ProtoMapper.fromProto(VALIDATOR, "views[0]", published, "east");
        hub.log.publishViews("east", List.of(view), List.of()).get();
        accepted = true;
      } catch (Rejection refused) {
        accepted = false;
      }
      Statistics.label("outcome").collect(accepted ? "accepted" : "refused");
      var written = hub.log.image().viewsBySubject();
      if (!accepted) {
        assertEquals(revisionBefore, hub.log.durableRevision(), "a refused view was written");
      }
      hub.restart();
      assertEquals(written, hub.log.image().viewsBySubject(), "the views changed across a restart and replay");
    }
  }

  private static io.meshwire.proto.rendezvous.v1.ClusterRecord base(String id, int n) {
    byte[] key = new byte[32];
    key[0] = (byte) (100 + n);
    return io.meshwire.proto.rendezvous.v1.ClusterRecord.newBuilder()
        .setClusterId(id).setWireguardPublicKey(ByteString.copyFrom(key)).setWireguardListenPort(51820)
        .addGatewayEndpoints("198.18.0." + n + ":51820").addPodCidrs("10." + n + ".0.0/16")
        .setGeneration(1).build();
  }

  /** CIDR text: mostly well-formed, of both families, any prefix, special ranges and mapped IPv6 included. */
  @Provide
  Arbitrary<String> cidrs() {
    Arbitrary<String> v4 = Combinators.combine(Arbitraries.integers().between(0, 255),
            Arbitraries.integers().between(0, 255), Arbitraries.integers().between(0, 32))
        .as((a, b, p) -> a + "." + b + ".0.0/" + p);
    Arbitrary<String> v6 = Combinators.combine(Arbitraries.of("fd00", "fe80", "ff02", "2001:db8", "", "fc00"),
            Arbitraries.integers().between(0, 128))
        .as((head, p) -> head + "::/" + p);
    Arbitrary<String> mapped = Combinators.combine(Arbitraries.integers().between(0, 255),
            Arbitraries.integers().between(96, 128))
        .as((a, p) -> "::ffff:" + a + ".0.0.0/" + p);
    Arbitrary<String> special = Arbitraries.of("0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "0.0.0.0/8",
        "127.0.0.0/8", "224.0.0.0/4", "169.254.0.0/16", "fe80::/10", "10.0.0.1/8", "10.0.0.0/33", "x/8",
        "10.244.0.0/16", "fd00:1::/48", "100.64.0.0/10", "::ffff:10.0.0.0/112");
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, v4), net.jqwik.api.Tuple.of(2, v6), net.jqwik.api.Tuple.of(1, mapped),
        net.jqwik.api.Tuple.of(3, special));
  }

  /** A valid record, then (half the time) one field broken or pushed to an edge: about half are accepted. */
  @Provide
  Arbitrary<io.meshwire.proto.rendezvous.v1.ClusterRecord> records() {
    Arbitrary<io.meshwire.proto.rendezvous.v1.ClusterRecord> valid = Combinators.combine(
            Arbitraries.of("east", "north", "a".repeat(63), "x1-2"),
            Arbitraries.bytes().array(byte[].class).ofSize(32),
            Arbitraries.integers().between(1, 65535),
            Arbitraries.of("198.18.0.1:51820", "[2001:db8::1]:51820", "gw.example.com:51820"),
            Arbitraries.integers().between(0, 255).map(a -> "10." + a + ".0.0/16"),
            Arbitraries.of("fd00:1::/48", "172.16.0.0/12", "100.64.0.0/10", "2001:db8::/32", "192.168.7.0/24"),
            Arbitraries.longs().between(1, WireValidator.MAX_GENERATION))
        .as((id, key, port, endpoint, pod, other, generation) -> io.meshwire.proto.rendezvous.v1.ClusterRecord
            .newBuilder().setClusterId(id).setWireguardPublicKey(ByteString.copyFrom(key))
            .setWireguardListenPort(port).addGatewayEndpoints(endpoint).addPodCidrs(pod).addServiceCidrs(other)
            .putLabels("k", "v").setGeneration(generation).build());
    Arbitrary<java.util.function.UnaryOperator<io.meshwire.proto.rendezvous.v1.ClusterRecord.Builder>> mutations =
        Arbitraries.oneOf(
            Arbitraries.just(b -> b),
            cidrs().map(c -> b -> b.setPodCidrs(0, c)),
            cidrs().map(c -> b -> b.setServiceCidrs(0, c)),
            cidrs().map(c -> b -> b.addPodCidrs(c)),
            Arbitraries.of("East", "-x", "a".repeat(64), "", "west").map(id -> b -> b.setClusterId(id)),
            Arbitraries.of(0, 31, 33).map(n -> b -> b.setWireguardPublicKey(ByteString.copyFrom(new byte[n]))),
            Arbitraries.of(0, 65536, -1).map(port -> b -> b.setWireguardListenPort(port)),
            Arbitraries.of("198.18.0.1", "host:0", "[::ffff:1.2.3.4]:51820", "x".repeat(300) + ":1")
                .map(e -> b -> b.setGatewayEndpoints(0, e)),
            Arbitraries.of(0L, Long.MAX_VALUE, Long.MIN_VALUE, -1L, WireValidator.MAX_GENERATION + 1)
                .map(g -> b -> b.setGeneration(g)),
            Arbitraries.just(b -> b.clearPodCidrs()),
            Arbitraries.just(b -> b.setAgentVersion("v".repeat(65))));
    return Combinators.combine(valid, mutations).as((r, mutate) -> mutate.apply(r.toBuilder()).build());
  }

  @Provide
  Arbitrary<io.meshwire.proto.rendezvous.v1.PeerView> views() {
    Arbitrary<String> subjects = Arbitraries.of("west", "west", "west", "east", "nobody", "West");
    Arbitrary<String> seenAs = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 255).map(a -> "10." + a + ".0.0/16")),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("100.64.0.0/16", "::ffff:10.0.0.0/112", "127.0.0.0/16")),
        net.jqwik.api.Tuple.of(1, cidrs()));
    Arbitrary<CidrMapping> mappings = Combinators.combine(Arbitraries.of("10.2.0.0/16", "10.2.0.0/16", "10.3.0.0/16"),
            seenAs)
        .as((original, seen) -> CidrMapping.newBuilder().setOriginal(original).setSeenAs(seen).build());
    Arbitrary<Long> generations = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, WireValidator.MAX_GENERATION)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of(0L, Long.MAX_VALUE, -1L, WireValidator.MAX_GENERATION + 1)));
    return Combinators.combine(subjects, mappings.list().ofMaxSize(2), generations)
        .as((subject, ms, generation) -> io.meshwire.proto.rendezvous.v1.PeerView.newBuilder()
            .setSubjectClusterId(subject).addAllMappings(ms).setGeneration(generation).build());
  }
}
