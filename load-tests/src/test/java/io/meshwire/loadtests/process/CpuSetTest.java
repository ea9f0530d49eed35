package io.meshwire.loadtests.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CpuSetTest {

  private static BitSet cpus(int... indexes) {
    BitSet b = new BitSet();
    for (int i : indexes) {
      b.set(i);
    }
    return b;
  }

  @Test
  void parsesTasksetListsIntoCanonicalSpelling() {
    BitSet fourCpus = cpus(0, 1, 2, 3);

    assertEquals("1", CpuSet.parse("1", fourCpus).list());
    assertEquals("0-1", CpuSet.parse("0,1", fourCpus).list());
    assertEquals("0,2-3", CpuSet.parse(" 3,0, 2-3 ", fourCpus).list());
    assertEquals(cpus(0, 2, 3), CpuSet.parse("0,2-3", fourCpus).cpus());
  }

  @Test
  void rejectsMalformedListsAndOfflineCpusNamingThem() {
    BitSet twoCpus = cpus(0, 1);

    assertEquals("CPU 2 of \"1-2\" is not online (online: 0-1)",
        assertThrows(IllegalArgumentException.class, () -> CpuSet.parse("1-2", twoCpus)).getMessage());
    for (String bad : List.of("", "a", "1-", "2-1", "-1", "0,,1", "0-1-2")) {
      String message = assertThrows(IllegalArgumentException.class, () -> CpuSet.parse(bad, twoCpus)).getMessage();
      assertTrue(message.contains("is not a CPU number or range"), bad + ": " + message);
    }
  }

  @Test
  void theCallersSetCannotChangeAParsedSet() {
    CpuSet set = CpuSet.parse("0", cpus(0, 1));

    set.cpus().set(1);

    assertEquals(cpus(0), set.cpus());
  }

  /** A real child started under taskset, then moved thread by thread, as the bench does. */
  @Test
  void pinsAChildFromItsStartAndMovesARunningProcess() throws Exception {
    assumeTrue(Files.isExecutable(CpuSet.TASKSET), "taskset (util-linux) is not installed");
    BitSet online = CpuSet.online();
    int first = online.nextSetBit(0);
    int last = online.length() - 1;
    CpuSet one = CpuSet.parse(Integer.toString(first), online);
    CpuSet other = CpuSet.parse(Integer.toString(last), online);

    List<String> cmd = new ArrayList<>(one.commandPrefix());
    // The child says when it runs (taskset has set the affinity and exec'd it by then), then sleeps.
    cmd.addAll(List.of("sh", "-c", "echo started; exec sleep 60"));
    Process child = new ProcessBuilder(cmd).start();
    try {
      try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()))) {
        assertEquals("started", out.readLine());
        assertEquals(one.list(), CpuSet.allowedList(child.pid()), "taskset execs the command under the same PID");
      }
      other.pin(child.pid());
      assertEquals(other.list(), CpuSet.allowedList(child.pid()));
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /**
   * This JVM, with threads starting and ending all the time (as after a bench, when gRPC's and
   * Netty's threads wind down), moved to one CPU and back: every live thread ends up on the set.
   * {@code taskset --all-tasks} failed here whenever a thread ended during its walk.
   */
  @Test
  void movesAProcessWhoseThreadsComeAndGo() throws Exception {
    assumeTrue(Files.isExecutable(CpuSet.TASKSET), "taskset (util-linux) is not installed");
    BitSet online = CpuSet.online();
    assumeTrue(online.cardinality() >= 2, "needs two CPUs");
    long self = ProcessHandle.current().pid();
    CpuSet before = CpuSet.parse(CpuSet.allowedList(self), online);
    CpuSet one = CpuSet.parse(Integer.toString(online.length() - 1), online);
    java.util.concurrent.atomic.AtomicBoolean churn = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicLong started = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.CountDownLatch churning = new java.util.concurrent.CountDownLatch(1);
    // Threads that live 5 ms each, started as fast as one thread can (bounded: 200,000 in all).
    Thread churner = new Thread(() -> {
      while (churn.get() && started.incrementAndGet() < 200_000) {
        if (started.get() == 1_000) {
          churning.countDown();
        }
        Thread t = new Thread(() -> java.util.concurrent.locks.LockSupport.parkNanos(5_000_000));
        t.start();
      }
    }, "thread-churner");
    churner.start();
    assertTrue(churning.await(10, TimeUnit.SECONDS), "1,000 threads started");
    try {
      for (int i = 0; i < 5; i++) {
        one.pin(self);
        assertEquals(one.list(), CpuSet.allowedList(self));
        before.pin(self);
        assertEquals(before.list(), CpuSet.allowedList(self));
      }
    } finally {
      churn.set(false);
      churner.join(10_000);
      before.pin(self);
    }
  }

  @Test
  void pinningAProcessThatIsGoneFailsNamingIt() throws Exception {
    assumeTrue(Files.isExecutable(CpuSet.TASKSET), "taskset (util-linux) is not installed");
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor(10, TimeUnit.SECONDS);
    CpuSet set = CpuSet.parse(Integer.toString(CpuSet.online().nextSetBit(0)));

    String message = assertThrows(RuntimeException.class, () -> set.pin(gone.pid())).getMessage();

    assertTrue(message.contains("/proc/" + gone.pid() + "/status"), message);
  }
}
