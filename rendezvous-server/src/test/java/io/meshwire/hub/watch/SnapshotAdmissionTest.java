package io.meshwire.hub.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Admission of snapshots, the line, and the retry hints of the watchers it turns away, on a fake clock. */
class SnapshotAdmissionTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  /** 4 permits, no line: every watcher beyond the permits is refused. */
  private final SnapshotAdmission admission = new SnapshotAdmission(4, 0, Duration.ofSeconds(2), now::get);
  private final List<String> grants = new CopyOnWriteArrayList<>();

  private SnapshotAdmission.Ticket ask(SnapshotAdmission a, String who) {
    return a.acquire(() -> grants.add(who));
  }

  private Duration refusal() {
    SnapshotAdmission.Ticket t = ask(admission, "refused");
    assertFalse(t.granted());
    return t.refusedRetryAfter();
  }

  @Test
  void refusalsGetTheBaseHintUntilASnapshotHasCompleted() {
    for (int i = 0; i < 4; i++) {
      assertTrue(ask(admission, "w" + i).granted());
    }
    for (int i = 0; i < 10; i++) {
      assertEquals(Duration.ofSeconds(2), refusal(), "the fifth watcher finds no permit");
    }
    assertEquals(List.of(), grants);
  }

  @Test
  void refusedWatchersAreToldStaggeredReturnTimesSpacedByTheMeasuredRate() {
    long taken = ask(admission, "w").grantedAtNanos();
    now.addAndGet(Duration.ofMillis(800).toNanos()); // a snapshot that held its permit 800 ms
    admission.release(taken, true);
    for (int i = 0; i < 4; i++) {
      ask(admission, "w" + i);
    }
    List<Duration> hints = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      hints.add(refusal());
    }
    // 4 permits freed every 800 ms: one every 200 ms, slots 0.75 of that apart.
    assertEquals(Duration.ofSeconds(2), hints.get(0));
    assertEquals(Duration.ofMillis(2_150), hints.get(1));
    assertEquals(Duration.ofMillis(2_000 + 99 * 150), hints.get(99), "the hint grows with the queue");
    // Time passing uses up the queue: a refusal much later starts from the base again.
    now.addAndGet(Duration.ofMinutes(1).toNanos());
    assertEquals(Duration.ofSeconds(2), refusal());
  }

  @Test
  void aHintNeverExceedsTheCap() {
    long taken = ask(admission, "w").grantedAtNanos();
    now.addAndGet(Duration.ofSeconds(60).toNanos());
    admission.release(taken, true);
    for (int i = 0; i < 4; i++) {
      ask(admission, "w" + i);
    }
    Duration last = Duration.ZERO;
    for (int i = 0; i < 100; i++) {
      last = refusal();
    }
    assertEquals(SnapshotAdmission.MAX_HINT, last);
  }

  @Test
  void aSnapshotAbandonedHalfwayFreesItsPermitWithoutSkewingTheRate() {
    long taken = ask(admission, "w").grantedAtNanos();
    now.addAndGet(Duration.ofSeconds(30).toNanos());
    admission.release(taken, false);
    for (int i = 0; i < 4; i++) {
      assertTrue(ask(admission, "w" + i).granted(), "the abandoned permit is free again");
    }
    assertEquals(Duration.ofSeconds(2), refusal(), "no completed snapshot, no measured rate");
  }

  @Test
  void watchersInLineGetTheReleasedPermitsFirstComeFirstServedAndBeyondTheLineAreRefused() {
    SnapshotAdmission line = new SnapshotAdmission(1, 2, Duration.ofSeconds(2), now::get);
    SnapshotAdmission.Ticket a = ask(line, "a");
    SnapshotAdmission.Ticket b = ask(line, "b");
    SnapshotAdmission.Ticket c = ask(line, "c");
    SnapshotAdmission.Ticket d = ask(line, "d");
    assertTrue(a.granted());
    assertFalse(b.granted());
    assertNull(b.refusedRetryAfter(), "b waits in line");
    assertNull(c.refusedRetryAfter(), "c waits in line");
    assertEquals(Duration.ofSeconds(2), d.refusedRetryAfter(), "the line is full");
    assertEquals(2, line.waiting());

    now.addAndGet(Duration.ofMillis(100).toNanos());
    line.release(a.grantedAtNanos(), true);
    assertEquals(List.of("b"), grants, "the permit is handed to the oldest in line");
    assertEquals(now.get(), b.grantedAtNanos());
    SnapshotAdmission.Ticket e = ask(line, "e");
    assertNull(e.refusedRetryAfter(), "a newcomer queues behind c, it does not take a permit");
    line.release(b.grantedAtNanos(), true);
    line.release(c.grantedAtNanos(), true);
    assertEquals(List.of("b", "c", "e"), grants);
    line.release(e.grantedAtNanos(), true);
    assertTrue(ask(line, "f").granted(), "nobody waits: the permit is free");
  }

  @Test
  void aWatcherThatLeavesTheLineIsSkippedAndOneGrantedMeanwhileMustGiveItsPermitBack() {
    SnapshotAdmission line = new SnapshotAdmission(1, 4, Duration.ofSeconds(2), now::get);
    SnapshotAdmission.Ticket a = ask(line, "a");
    SnapshotAdmission.Ticket b = ask(line, "b");
    SnapshotAdmission.Ticket c = ask(line, "c");
    assertTrue(line.withdraw(b));
    line.release(a.grantedAtNanos(), false);
    assertEquals(List.of("c"), grants, "b left the line");
    assertFalse(line.withdraw(c), "c already holds the permit: it gives it back with release");
    line.release(c.grantedAtNanos(), false);
    assertEquals(0, line.waiting());
    assertTrue(ask(line, "d").granted());
  }

  @Test
  void aWatcherRefusedBehindALongLineIsToldToComeBackAfterIt() {
    SnapshotAdmission line = new SnapshotAdmission(1, 10, Duration.ofSeconds(2), now::get);
    SnapshotAdmission.Ticket a = ask(line, "a");
    now.addAndGet(Duration.ofSeconds(1).toNanos()); // snapshots hold a permit 1 s: 0.75 s apart
    line.release(a.grantedAtNanos(), true);
    ask(line, "b");
    for (int i = 0; i < 10; i++) {
      ask(line, "w" + i);
    }
    SnapshotAdmission.Ticket refused = ask(line, "late");
    assertEquals(Duration.ofMillis(7_500), refused.refusedRetryAfter(), "10 in line, 750 ms each");
  }
}
