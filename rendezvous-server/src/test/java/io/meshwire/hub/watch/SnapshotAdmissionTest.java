package io.meshwire.hub.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Admission of snapshots and the retry hints of the watchers it turns away, on a fake clock. */
class SnapshotAdmissionTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final SnapshotAdmission admission = new SnapshotAdmission(4, Duration.ofSeconds(2), now::get);

  @Test
  void refusalsGetTheBaseHintUntilASnapshotHasCompleted() {
    for (int i = 0; i < 4; i++) {
      assertTrue(admission.tryAcquire() >= 0);
    }
    assertEquals(-1, admission.tryAcquire(), "the fifth watcher finds no permit");
    for (int i = 0; i < 10; i++) {
      assertEquals(Duration.ofSeconds(2), admission.refusedRetryAfter());
    }
  }

  @Test
  void refusedWatchersAreToldStaggeredReturnTimesSpacedByTheMeasuredRate() {
    long taken = admission.tryAcquire();
    now.addAndGet(Duration.ofMillis(800).toNanos()); // a snapshot that held its permit 800 ms
    admission.release(taken, true);
    for (int i = 0; i < 4; i++) {
      admission.tryAcquire();
    }
    List<Duration> hints = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      hints.add(admission.refusedRetryAfter());
    }
    // 4 permits freed every 800 ms: one every 200 ms, slots 0.75 of that apart.
    assertEquals(Duration.ofSeconds(2), hints.get(0));
    assertEquals(Duration.ofMillis(2_150), hints.get(1));
    assertEquals(Duration.ofMillis(2_000 + 99 * 150), hints.get(99), "the hint grows with the queue");
    // Time passing uses up the queue: a refusal much later starts from the base again.
    now.addAndGet(Duration.ofMinutes(1).toNanos());
    assertEquals(Duration.ofSeconds(2), admission.refusedRetryAfter());
  }

  @Test
  void aHintNeverExceedsTheCap() {
    long taken = admission.tryAcquire();
    now.addAndGet(Duration.ofSeconds(60).toNanos());
    admission.release(taken, true);
    Duration last = Duration.ZERO;
    for (int i = 0; i < 100; i++) {
      last = admission.refusedRetryAfter();
    }
    assertEquals(SnapshotAdmission.MAX_HINT, last);
  }

  @Test
  void aSnapshotAbandonedHalfwayFreesItsPermitWithoutSkewingTheRate() {
    long taken = admission.tryAcquire();
    now.addAndGet(Duration.ofSeconds(30).toNanos());
    admission.release(taken, false);
    assertEquals(Duration.ofSeconds(2), admission.refusedRetryAfter(), "no completed snapshot, no measured rate");
    for (int i = 0; i < 4; i++) {
      assertTrue(admission.tryAcquire() >= 0, "the abandoned permit is free again");
    }
  }
}
