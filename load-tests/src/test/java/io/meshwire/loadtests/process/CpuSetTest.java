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

  /** A real child started under taskset, then moved with {@code taskset -a -p}, as the bench does. */
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
