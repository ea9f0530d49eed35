package io.meshwire.hub.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.meshwire.hub.log.MembershipLog;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.store.FileLogStore;
import io.meshwire.hub.wire.ProtoEventCodec;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.netaddr.Cidr;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fan-out on its own (no gRPC): cursors, flow control, addressing, falling behind. */
class WatchHubTest {

  @TempDir Path dir;
  MembershipLog log;
  WatchHub hub;
  ScheduledExecutorService scheduler;
  FileLogStore store;

  @BeforeEach
  void start() throws Exception {
    store = FileLogStore.open(dir, FileLogStore.Options.defaults(), new SimpleMeterRegistry());
    var pool = Executors.newFixedThreadPool(2);
    scheduler = Executors.newSingleThreadScheduledExecutor();
    log = new MembershipLog(store, new ProtoEventCodec(), InstantSource.system(), new MembershipLog.Options(32, 16),
        pool, pool);
    hub = new WatchHub(log, new ProtoWatchCodec(), new WatchHub.Options(Duration.ofHours(1), 2, 4,
        2, Duration.ofSeconds(1), 8), pool, scheduler, new SimpleMeterRegistry());
  }

  @AfterEach
  void stop() {
    hub.close();
    scheduler.shutdownNow();
    log.close();
  }

  /** A sink that records what it gets and is ready only while {@code ready} is set. */
  static class RecordingSink implements WatchSink {
    final List<WatchEvent> events = new CopyOnWriteArrayList<>();
    final AtomicBoolean ready = new AtomicBoolean(true);
    volatile int budget = Integer.MAX_VALUE; // messages accepted before flow control says "full"
    volatile Failure failure;

    @Override
    public boolean isReady() {
      return ready.get() && events.size() < budget;
    }

    @Override
    public void send(byte[] encodedEvent) {
      try {
        events.add(WatchEvent.parseFrom(encodedEvent));
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }

    @Override
    public void fail(Failure f) {
      failure = f;
    }

    long lastRevision() {
      return events.isEmpty() ? 0 : events.get(events.size() - 1).getRevision();
    }
  }

  private long upsert(String id, int n, long generation) throws Exception {
    ClusterRecord r = ProtoMapper.fromProto(io.meshwire.validation.WireValidator.defaults(), io.meshwire.hub.HubFixture.record(id, n, generation), id);
    return log.upsert(r).get();
  }

  @Test
  void aWatcherThatIsNeverReadyDoesNotHoldBackTheOthers() throws Exception {
    RecordingSink slow = new RecordingSink();
    slow.ready.set(false);
    RecordingSink fast = new RecordingSink();
    WatchHub.Subscription slowSub = hub.subscribe("slow", 0, "", slow);
    hub.subscribe("fast", 0, "", fast);
    long last = 0;
    for (int g = 1; g <= 20; g++) {
      last = upsert("c" + (g % 3), g % 3 + 1, g);
    }
    long expected = last;
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> fast.lastRevision() == expected);
    assertTrue(slow.events.isEmpty(), "nothing is written while flow control says not ready");
    // Once the transport says ready (as gRPC's onReady handler does), it catches up from its cursor.
    slow.ready.set(true);
    slowSub.onReady();
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> slow.events.stream().anyMatch(WatchEvent::hasCaughtUp));
    assertEquals(expected, slow.events.stream().filter(WatchEvent::hasCaughtUp).findFirst().orElseThrow().getRevision());
  }

  @Test
  void watchersOnAConnectionExecutorAreWrittenOnlyFromItAndGetEveryChange() throws Exception {
    var loop = Executors.newSingleThreadExecutor(r -> new Thread(r, "fake-event-loop"));
    try {
      List<String> writers = new CopyOnWriteArrayList<>();
      List<RecordingSink> sinks = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RecordingSink sink = new RecordingSink() {
          @Override
          public void send(byte[] encodedEvent) {
            writers.add(Thread.currentThread().getName());
            super.send(encodedEvent);
          }
        };
        sinks.add(sink);
        hub.subscribe("w" + i, 0, "", sink, loop);
      }
      long last = 0;
      for (int g = 1; g <= 30; g++) {
        last = upsert("c" + (g % 3), g % 3 + 1, g);
      }
      long expected = last;
      for (RecordingSink sink : sinks) {
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sink.lastRevision() == expected);
        List<Long> revisions = sink.events.stream().filter(e -> e.hasClusterUpserted()).map(WatchEvent::getRevision)
            .toList();
        assertEquals(revisions.stream().sorted().distinct().toList(), revisions, "in order, no duplicates");
      }
      assertEquals(List.of("fake-event-loop"), writers.stream().distinct().toList());
    } finally {
      loop.shutdownNow();
    }
  }

  @Test
  void watchersOfOneConnectionExecutorAtDifferentCursorsGetExactlyTheirOwnEntries() throws Exception {
    // The watchers of one event loop are drained in one pass; each must still get what is
    // addressed to it, from its own cursor, also when flow control stops it half-way.
    var loop = Executors.newSingleThreadExecutor(r -> new Thread(r, "fake-event-loop"));
    try {
      upsert("east", 1, 1);
      long west1 = upsert("west", 2, 1);
      RecordingSink east = new RecordingSink();
      RecordingSink west = new RecordingSink();
      RecordingSink north = new RecordingSink(); // resumes from before west's record
      RecordingSink paused = new RecordingSink(); // another west connection, stopped by flow control
      paused.ready.set(false);
      hub.subscribe("east", west1, log.meshUid(), east, loop);
      hub.subscribe("west", west1, log.meshUid(), west, loop);
      hub.subscribe("north", west1 - 1, log.meshUid(), north, loop);
      WatchHub.Subscription pausedSub = hub.subscribe("west", west1, log.meshUid(), paused, loop);
      PeerView view = new PeerView("east", "west",
          List.of(new PeerView.Mapping(Cidr.parse("10.2.0.0/16"), Cidr.parse("172.16.0.0/16"))), 1);
      long viewRevision = log.publishViews("east", List.of(view), List.of()).get();
      long last = upsert("west", 2, 2);

      for (RecordingSink sink : List.of(east, west, north)) {
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sink.lastRevision() == last);
      }
      assertEquals(List.of(west1, last), upserts(north), "north resumed from its own cursor");
      assertEquals(List.of(last), upserts(east));
      assertEquals(List.of(last), upserts(west));
      assertEquals(List.of(viewRevision), views(west), "the view goes to its subject only");
      assertTrue(views(east).isEmpty() && views(north).isEmpty());
      assertTrue(paused.events.isEmpty());

      paused.ready.set(true);
      pausedSub.onReady();
      Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> paused.lastRevision() == last);
      assertEquals(List.of(viewRevision), views(paused));
      assertEquals(List.of(last), upserts(paused));
    } finally {
      loop.shutdownNow();
    }
  }

  private static List<Long> upserts(RecordingSink sink) {
    return sink.events.stream().filter(WatchEvent::hasClusterUpserted).map(WatchEvent::getRevision).toList();
  }

  private static List<Long> views(RecordingSink sink) {
    return sink.events.stream().filter(WatchEvent::hasViewUpdated).map(WatchEvent::getRevision).toList();
  }

  /** Runs no periodic task by itself: the test fires the bookmark tick. */
  static final class ManualTicks extends java.util.concurrent.ScheduledThreadPoolExecutor {
    volatile Runnable tick;

    ManualTicks() {
      super(1);
    }

    @Override
    public java.util.concurrent.ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay,
        long period, java.util.concurrent.TimeUnit unit) {
      tick = command;
      return schedule(() -> { }, 1, java.util.concurrent.TimeUnit.DAYS);
    }
  }

  @Test
  void eachBookmarkTickReachesOneSixteenthOfTheWatchersAndAFullIntervalReachesEachOnce() throws Exception {
    long head = upsert("east", 1, 1);
    ManualTicks ticks = new ManualTicks();
    var pool = Executors.newFixedThreadPool(2);
    WatchHub spread = new WatchHub(log, new ProtoWatchCodec(), new WatchHub.Options(Duration.ofSeconds(16), 2, 4,
        16, Duration.ofSeconds(1), 8), pool, ticks, new SimpleMeterRegistry());
    try {
      List<RecordingSink> sinks = new java.util.ArrayList<>();
      for (int i = 0; i < 2 * WatchHub.BOOKMARK_SLICES; i++) {
        RecordingSink sink = new RecordingSink();
        sinks.add(sink);
        spread.subscribe("w" + i, head, log.meshUid(), sink);
      }
      Awaitility.await().atMost(Duration.ofSeconds(5))
          .until(() -> sinks.stream().allMatch(k -> k.events.stream().anyMatch(WatchEvent::hasCaughtUp)));
      ticks.tick.run();
      // A change after the tick: once every watcher has it, every bookmark the tick asked for is out.
      long next = upsert("east", 1, 2);
      Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sinks.stream().allMatch(k -> k.lastRevision() >= next));
      assertEquals(2, sinks.stream().filter(k -> k.events.stream().anyMatch(WatchEvent::hasBookmark)).count());
      for (int t = 1; t < WatchHub.BOOKMARK_SLICES; t++) {
        ticks.tick.run();
      }
      Awaitility.await().atMost(Duration.ofSeconds(5))
          .until(() -> sinks.stream().allMatch(k -> k.events.stream().anyMatch(WatchEvent::hasBookmark)));
      for (RecordingSink k : sinks) {
        assertEquals(1, k.events.stream().filter(WatchEvent::hasBookmark).count(), "one bookmark per interval");
      }
    } finally {
      spread.close();
      ticks.shutdownNow();
      pool.shutdownNow();
    }
  }

  @Test
  void viewsGoOnlyToTheirSubject() throws Exception {
    upsert("east", 1, 1);
    upsert("west", 2, 1);
    RecordingSink east = new RecordingSink();
    RecordingSink west = new RecordingSink();
    hub.subscribe("east", 2, log.meshUid(), east);
    hub.subscribe("west", 2, log.meshUid(), west);
    PeerView view = new PeerView("east", "west",
        List.of(new PeerView.Mapping(Cidr.parse("10.2.0.0/16"), Cidr.parse("172.16.0.0/16"))), 1);
    long revision = log.publishViews("east", List.of(view), List.of()).get();
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> west.events.stream().anyMatch(WatchEvent::hasViewUpdated));
    assertTrue(east.events.stream().noneMatch(WatchEvent::hasViewUpdated), "the observer does not get its own view");
    // The observer's cursor still moves past it: a bookmark or later event carries the revision.
    upsert("west", 2, 2);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> east.lastRevision() > revision);
  }

  @Test
  void aWatcherBelowTheFloorGetsASnapshotAndTheRestInOrder() throws Exception {
    for (int g = 1; g <= 40; g++) {
      upsert("c" + (g % 4), g % 4 + 1, g);
    }
    RecordingSink late = new RecordingSink();
    hub.subscribe("c1", 1, log.meshUid(), late);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> late.events.stream().anyMatch(WatchEvent::hasCaughtUp));
    assertTrue(late.events.get(0).getHello().getSnapshotFollows());
    long chunks = late.events.stream().filter(WatchEvent::hasSnapshot).count();
    assertEquals(3, chunks, "4 records in chunks of 2, then the last chunk with the views");
    assertEquals(40, late.events.stream().filter(WatchEvent::hasCaughtUp).findFirst().orElseThrow().getRevision());
  }

  /** 4 permits and a line of 2 (the hub of these tests). */
  @Test
  void snapshotsBeyondTheBoundWaitInLineAndBeyondTheLineAreRefusedWithARetryHint() throws Exception {
    upsert("east", 1, 1);
    List<RecordingSink> stuck = new CopyOnWriteArrayList<>();
    List<WatchHub.Subscription> holders = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 4; i++) {
      RecordingSink s = new RecordingSink();
      s.budget = 1; // takes the hello, then never the snapshot: holds a permit
      stuck.add(s);
      holders.add(hub.subscribe("w" + i, 0, "", s));
    }
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> stuck.stream().allMatch(s -> s.events.size() == 1));
    RecordingSink first = new RecordingSink();
    first.budget = 1; // once served, it too holds its permit
    RecordingSink second = new RecordingSink();
    // Drains run on a pool in any order: each joins the line before the next subscribes.
    hub.subscribe("w5", 0, "", first);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> hub.waitingForSnapshot() == 1);
    WatchHub.Subscription secondSub = hub.subscribe("w6", 0, "", second);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> hub.waitingForSnapshot() == 2);
    RecordingSink refused = new RecordingSink();
    hub.subscribe("w9", 0, "", refused);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> refused.failure != null);
    assertEquals(WatchSink.Failure.Kind.OVERLOADED, refused.failure.kind());
    assertEquals(Duration.ofSeconds(1), refused.failure.retryAfter(), "no snapshot completed yet: the base hint");
    // In line: open, told nothing yet, not refused.
    assertEquals(List.of(), first.events);
    assertEquals(List.of(), second.events);
    assertEquals(null, first.failure);
    assertEquals(6, hub.watcherCount());

    // One holder's snapshot completes: its permit goes to the first in line, not to a newcomer.
    stuck.get(0).budget = Integer.MAX_VALUE;
    holders.get(0).onReady();
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> caughtUp(stuck.get(0)) && first.events.size() == 1);
    assertTrue(first.events.get(0).getHello().getSnapshotFollows());
    assertEquals(List.of(), second.events, "the second in line still waits");

    // The second leaves the line. Had it kept its place, the next permit would be handed to a
    // closed stream and lost, and the newcomer below would wait forever behind four held permits.
    secondSub.cancel();
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> hub.watcherCount() == 5);
    stuck.get(1).budget = Integer.MAX_VALUE;
    holders.get(1).onReady();
    RecordingSink newcomer = new RecordingSink();
    hub.subscribe("w7", 0, "", newcomer);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> caughtUp(newcomer));
    assertEquals(null, newcomer.failure);
  }

  private static boolean caughtUp(RecordingSink s) {
    return s.events.stream().anyMatch(WatchEvent::hasCaughtUp);
  }
}
