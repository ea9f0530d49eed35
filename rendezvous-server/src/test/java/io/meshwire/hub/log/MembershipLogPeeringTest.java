package io.meshwire.hub.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.membership.MembershipEvent.ClusterRemoved;
import io.meshwire.hub.membership.MembershipEvent.ClusterUpserted;
import io.meshwire.hub.membership.MembershipEvent.PeersChanged;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringMode;
import io.meshwire.hub.policy.PeeringPolicy;
import io.meshwire.hub.policy.Selector;
import io.meshwire.hub.store.FileLogStore;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peering changes racing joins and removals on the file store's log. A change computes its deltas
 * outside the log's lock and uses them only if no member joined or left meanwhile: whatever the
 * interleaving, a watcher that followed the log holds exactly the peers the final rules allow.
 */
class MembershipLogPeeringTest {

  private static final int FIRST = 40;
  private static final int JOINING = 40;

  @TempDir Path dir;
  private ExecutorService pool;
  private MembershipLog log;

  @BeforeEach
  void open() throws Exception {
    pool = Executors.newFixedThreadPool(2);
    FileLogStore store = FileLogStore.open(dir, FileLogStore.Options.defaults(), new SimpleMeterRegistry());
    log = new MembershipLog(store, new ProtoEventCodec(), InstantSource.system(), MembershipLog.Options.defaults(),
        pool, pool);
  }

  @AfterEach
  void close() {
    log.close();
    pool.shutdownNow();
  }

  private static String id(int n) {
    return "c" + n;
  }

  private static String team(int n) {
    return "t" + n % 4;
  }

  private static PeeringPolicy teamPolicy(String team, PeeringMode mode) {
    Selector s = new Selector(Set.of(), Map.of("team", team), List.of());
    return new PeeringPolicy("team-" + team, s, s, mode);
  }

  @Test
  void policyChangesRacingJoinsAndRemovalsLeaveEveryWatcherWithExactlyItsAllowedPeers() throws Exception {
    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (int n = 1; n <= FIRST; n++) {
      writes.add(log.changePeering(new PeeringChange.SetLabels(id(n), Map.of("team", team(n))), true));
      writes.add(log.upsert(MembershipContract.record(id(n), n, 1)));
    }
    for (String t : List.of("t0", "t1", "t2", "t3")) {
      writes.add(log.changePeering(new PeeringChange.ApplyPolicy(teamPolicy(t, PeeringMode.DIRECT)), true));
    }

    CompletableFuture<List<CompletableFuture<?>>> policies = CompletableFuture.supplyAsync(() -> {
      List<CompletableFuture<?>> out = new ArrayList<>();
      Selector t1 = new Selector(Set.of(), Map.of("team", "t1"), List.of());
      for (int i = 0; i < 30; i++) {
        try {
          out.add(log.changePeering(new PeeringChange.ApplyPolicy(
              teamPolicy("t0", i % 2 == 0 ? PeeringMode.RELAY_ONLY : PeeringMode.DIRECT)), true));
          out.add(log.changePeering(i % 2 == 0
              ? new PeeringChange.ApplyPolicy(new PeeringPolicy("split-t1", t1, t1, PeeringMode.DENY))
              : new PeeringChange.DeletePolicy("split-t1"), true));
          int moved = 1 + i % FIRST;
          out.add(log.changePeering(new PeeringChange.SetLabels(id(moved), Map.of("team", team(moved + i))), true));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
      return out;
    });
    CompletableFuture<List<CompletableFuture<?>>> members = CompletableFuture.supplyAsync(() -> {
      List<CompletableFuture<?>> out = new ArrayList<>();
      for (int n = FIRST + 1; n <= FIRST + JOINING; n++) {
        try {
          out.add(log.changePeering(new PeeringChange.SetLabels(id(n), Map.of("team", team(n))), true));
          out.add(log.upsert(MembershipContract.record(id(n), n, 1)));
          if (n % 3 == 0) {
            out.add(log.remove(id(n - 1), MembershipEvent.RemovalReason.REMOVED));
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
      return out;
    });
    writes.addAll(policies.get(30, TimeUnit.SECONDS));
    writes.addAll(members.get(30, TimeUnit.SECONDS));
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    List<String> current = log.clusters().stream().map(c -> c.clusterId()).toList();
    List<LogEntry> entries = log.readAfter(0, Integer.MAX_VALUE).orElseThrow();
    for (int n = 1; n <= FIRST; n++) {
      String watcher = id(n);
      assertEquals(log.peering().peersOf(watcher, current).keySet(), held(entries, watcher), watcher);
    }
  }

  @Test
  void aClusterJoiningWhileAChangeComputesItsDeltasIsPartOfThem() throws Exception {
    for (int n = 1; n <= 4; n++) {
      log.changePeering(new PeeringChange.SetLabels(id(n), Map.of("team", "t0")), true);
      log.upsert(MembershipContract.record(id(n), n, 1));
    }
    log.changePeering(new PeeringChange.SetLabels(id(5), Map.of("team", "t0")), true);
    // c5 joins between the computation of the split's deltas (among c1..c4) and its append.
    log.afterDeltasComputed = () -> {
      log.afterDeltasComputed = () -> { };
      try {
        log.upsert(MembershipContract.record(id(5), 5, 1));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    Selector t0 = new Selector(Set.of(), Map.of("team", "t0"), List.of());
    long revision = log.changePeering(new PeeringChange.ApplyPolicy(new PeeringPolicy("split-t0", t0, t0,
        PeeringMode.DENY)), true).get(10, TimeUnit.SECONDS).revision();

    List<LogEntry> entries = log.readAfter(0, Integer.MAX_VALUE).orElseThrow();
    for (int n = 1; n <= 5; n++) {
      assertEquals(Set.of(), held(entries, id(n)), id(n) + " holds nobody after the split");
    }
    assertEquals(5, entries.stream().filter(e -> e.revision() == revision).count(), "one delta per member, c5's too");
  }

  /** The peers a watcher following the whole log holds: records it was sent, minus removals, plus its deltas. */
  private static Set<String> held(List<LogEntry> entries, String watcher) {
    Set<String> peers = new TreeSet<>();
    for (LogEntry e : entries) {
      if (!e.isFor(watcher)) {
        continue;
      }
      switch (e.event()) {
        case ClusterUpserted u -> peers.add(u.record().clusterId());
        case ClusterRemoved r -> peers.remove(r.clusterId());
        case PeersChanged p -> {
          p.upserted().forEach(peer -> peers.add(peer.record().clusterId()));
          peers.removeAll(p.removed());
        }
        default -> { }
      }
    }
    peers.remove(watcher);
    return peers;
  }
}
