package io.meshwire.hub.store;

import static io.meshwire.hub.store.StoreFixtures.payload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash test with a real process: a child JVM ({@link StoreAppenderMain}) appends and prints each
 * acknowledged revision; the test SIGKILLs it mid-stream, twice, and checks that every
 * acknowledged revision is recovered and that revisions stay consecutive.
 */
class FileLogStoreCrashIT {

  private static final int ACKS_BEFORE_KILL = 200;
  private static final long TIMEOUT_SECONDS = 60;
  private static final String EOF = "\u0000eof";

  @TempDir Path dir;

  @Test
  void everyAcknowledgedAppendSurvivesSigkill() throws Exception {
    Path data = dir.resolve("store");
    TreeSet<Long> acked = new TreeSet<>();
    for (int round = 1; round <= 2; round++) {
      long before = acked.size();
      runAndKill(data, round, acked);
      assertTrue(acked.size() - before >= ACKS_BEFORE_KILL, "round " + round + " acks=" + (acked.size() - before));

      try (FileLogStore store = StoreFixtures.open(data)) {
        List<Entry> entries = store.recovered().entries();
        for (int i = 0; i < entries.size(); i++) {
          assertEquals(i + 1, entries.get(i).revision(), "revisions are consecutive from 1");
          assertArrayEquals(payload(i + 1), entries.get(i).bytes());
        }
        assertTrue(entries.size() >= acked.last(),
            "acknowledged up to " + acked.last() + " but recovered only " + entries.size()
                + "; report: " + store.recovered().report());
      }
    }
  }

  /** Runs the child until it acknowledged {@link #ACKS_BEFORE_KILL} appends, kills it, collects every ack. */
  private void runAndKill(Path data, int round, TreeSet<Long> acked) throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path stderr = dir.resolve("child-" + round + ".err");
    Process child = new ProcessBuilder(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), StoreAppenderMain.class.getName(), data.toString())
        .redirectError(stderr.toFile())
        .start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = Thread.ofPlatform().daemon().name("crash-child-stdout-" + round).start(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lines.add(line);
        }
      } catch (IOException e) {
        lines.add("reader failed " + e);
      } finally {
        lines.add(EOF);
      }
    });
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
      int acksThisRound = 0;
      while (acksThisRound < ACKS_BEFORE_KILL) {
        String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (line == null || line.equals(EOF)) {
          fail("child " + (line == null ? "too slow" : "exited") + " after " + acksThisRound + " acks; stderr:\n"
              + Files.readString(stderr));
        }
        acksThisRound += record(line, acked) ? 1 : 0;
      }
    } finally {
      child.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no close()
      assertTrue(child.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "child did not die");
    }
    // Acks printed before the kill are acknowledged appends too: drain them all.
    reader.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
    for (String line = lines.poll(); line != null && !line.equals(EOF); line = lines.poll()) {
      record(line, acked);
    }
    assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9), not exited by itself");
  }

  private static boolean record(String line, TreeSet<Long> acked) {
    if (line.startsWith("failed ")) {
      fail("child append failed: " + line);
    }
    if (!line.startsWith("ack ")) {
      return false; // "ready", or a log line
    }
    acked.add(Long.parseLong(line.substring(4).trim()));
    return true;
  }
}
