package io.meshwire.loadtests.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ProcStats} reads what Linux and the JDK tell about another process: resident memory and
 * CPU time from {@code /proc/<pid>}, and the Java heap after a full GC through {@code jcmd}.
 * Stateless.
 */
public final class ProcStats {

  /** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
  private static final double TICKS_PER_SECOND = 100.0;
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

  private ProcStats() {}

  /** VmRSS of {@code pid} in bytes. */
  public static long rssBytes(long pid) {
    return Long.parseLong(statusField(pid, "VmRSS").replaceAll("[^0-9]", "")) * 1024;
  }

  /** The value of the line {@code key:} of {@code /proc/<pid>/status}, stripped (e.g. {@code 1234 kB}). */
  public static String statusField(long pid, String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(key + ":")) {
          return line.substring(key.length() + 1).strip();
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/" + pid + "/status: " + e.getMessage(), e);
    }
    throw new IllegalStateException("/proc/" + pid + "/status has no " + key + " line");
  }

  /** User plus system CPU seconds {@code pid} has used so far (utime + stime). */
  public static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) is in parentheses and may hold spaces: split after its ')'.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // f[0] is field 3 (state): utime is field 14, stime field 15.
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/" + pid + "/stat: " + e.getMessage(), e);
    }
  }

  /**
   * Runs a full GC in the JVM {@code pid} ({@code jcmd GC.run}) and returns its used heap after
   * it ({@code GC.heap_info}), in bytes. {@code jcmd} is taken from the running JDK, which also
   * launched the child.
   */
  public static long heapAfterGcBytes(long pid) {
    String info = jcmd(pid, "GC.run", "GC.heap_info");
    // G1 prints one heap line; Serial and Parallel print one per generation (young, old), and
    // the young one is empty right after a full GC. Sum the heap lines; Metaspace is not heap.
    long usedKb = 0;
    boolean found = false;
    for (String line : info.split("\n")) {
      if (line.strip().startsWith("Metaspace") || line.strip().startsWith("class space")) {
        continue;
      }
      Matcher m = HEAP_USED.matcher(line);
      if (m.find()) {
        usedKb += Long.parseLong(m.group(1));
        found = true;
      }
    }
    if (!found) {
      throw new IllegalStateException("jcmd GC.heap_info for " + pid + " printed no \"used NK\": " + info);
    }
    return usedKb * 1024;
  }

  /** {@code jcmd VM.native_memory summary}: the JVM's own memory by category (needs -XX:NativeMemoryTracking). */
  public static String nativeMemorySummary(long pid) {
    return jcmd(pid, "VM.native_memory summary");
  }

  /** Runs {@code commands} in order through one attach ({@code jcmd -f}); a JVM start each costs a second here. */
  private static String jcmd(long pid, String... commands) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    String command = String.join(", ", commands);
    Path script = null;
    try {
      script = Files.createTempFile("meshwire-jcmd-", ".txt");
      Files.writeString(script, String.join("\n", commands) + "\n");
      Process p = new ProcessBuilder(List.of(jcmd.toString(), Long.toString(pid), "-f", script.toString()))
          .redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(Duration.ofSeconds(60).toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("jcmd " + pid + " " + command + " did not finish in 60s");
      }
      String text = new String(out, java.nio.charset.StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException("jcmd " + pid + " " + command + " exited " + p.exitValue() + ": " + text);
      }
      return text;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + jcmd + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running jcmd", e);
    } finally {
      if (script != null) {
        script.toFile().delete();
      }
    }
  }

  /** The soft limit on open files of this process ({@code ulimit -n}), or -1 when unknown. */
  public static long openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
