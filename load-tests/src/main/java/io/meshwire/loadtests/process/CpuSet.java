package io.meshwire.loadtests.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code CpuSet} is a set of CPUs a bench process is pinned to, written as {@code taskset -c}
 * takes it ({@code 1}, {@code 0-1}, {@code 0,2-3}). Pinning goes through util-linux's
 * {@code taskset}: a child started with {@link #commandPrefix()} is confined from its first
 * instruction (so a JVM sizes its thread pools for these CPUs), and {@link #pin(long)} moves every
 * thread of a running process (threads it creates later inherit the set). Immutable.
 */
public record CpuSet(String list, BitSet cpus) {

  static final Path TASKSET = Path.of("/usr/bin/taskset");

  public CpuSet {
    cpus = (BitSet) cpus.clone();
  }

  /** A copy: the set stays immutable. */
  @Override
  public BitSet cpus() {
    return (BitSet) cpus.clone();
  }

  /**
   * Parses {@code spec}; {@code online} is the CPUs that exist (as the kernel lists them in
   * {@code /sys/devices/system/cpu/online}). The message names the problem, for the option's error.
   */
  public static CpuSet parse(String spec, BitSet online) {
    BitSet cpus = ranges(spec.strip(), "\"" + spec + "\"");
    if (cpus.isEmpty()) {
      throw new IllegalArgumentException("\"" + spec + "\" names no CPU");
    }
    BitSet missing = (BitSet) cpus.clone();
    missing.andNot(online);
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("CPU " + missing.nextSetBit(0) + " of \"" + spec + "\" is not online (online: "
          + spelled(online) + ")");
    }
    return new CpuSet(spelled(cpus), cpus);
  }

  /** Parses {@code spec} against this machine's online CPUs. */
  public static CpuSet parse(String spec) {
    return parse(spec, online());
  }

  /** The CPUs the kernel has online. */
  public static BitSet online() {
    try {
      return ranges(Files.readString(Path.of("/sys/devices/system/cpu/online")).strip(), "the kernel's online CPUs");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /sys/devices/system/cpu/online: " + e.getMessage(), e);
    }
  }

  /** What {@code /proc/<pid>/status} says {@code pid} may run on ({@code Cpus_allowed_list}), e.g. {@code 0-1}. */
  public static String allowedList(long pid) {
    return ProcStats.statusField(pid, "Cpus_allowed_list");
  }

  /** The words to put before a command so it starts on these CPUs. */
  public List<String> commandPrefix() {
    return List.of(TASKSET.toString(), "--cpu-list", list);
  }

  /** Passes over a process's threads before {@link #pin} gives up on threads that keep appearing unpinned. */
  private static final int PIN_PASSES = 10;

  /**
   * Moves every thread of the running process {@code pid} to these CPUs, and checks that the
   * kernel now says so for the process and for each of its threads. Not {@code taskset
   * --all-tasks}: it stops at the first thread that ended during its walk (a JVM starts and ends
   * threads all the time, so it failed three times in a row after a bench), and it succeeds
   * silently for a PID that is gone. Here each thread is moved on its own (one {@code taskset} run
   * for all, a thread that ended is skipped), and passes repeat until every live thread is on these
   * CPUs: a thread started during a pass by a thread not moved yet inherits the old set and is
   * caught by the next pass.
   */
  public void pin(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    List<String> unpinned = List.of();
    try {
      for (int pass = 1; pass <= PIN_PASSES; pass++) {
        List<String> tids = threadsOf(tasks);
        unpinned = tids.stream().filter(tid -> !list.equals(threadAllowedList(tid))).toList();
        if (unpinned.isEmpty()) {
          String allowed = allowedList(pid); // also names a process that is gone
          if (!allowed.equals(list)) {
            throw new IllegalStateException("pid " + pid + " runs on CPUs " + allowed + " after pinning it to " + list);
          }
          return;
        }
        List<String> cmd = new java.util.ArrayList<>(List.of("sh", "-c",
            "for t in \"$@\"; do " + TASKSET + " -p -c " + list + " \"$t\" >/dev/null 2>&1; done", "sh"));
        cmd.addAll(unpinned);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException(TASKSET + " on " + unpinned.size() + " threads of pid " + pid
              + " did not finish within 10 s");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + TASKSET + " (util-linux): " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted pinning pid " + pid, e);
    }
    throw new IllegalStateException("pid " + pid + ": threads " + unpinned + " still not on CPUs " + list + " after "
        + PIN_PASSES + " passes of " + TASKSET);
  }

  /** The thread IDs of a process (its {@code /proc/<pid>/task} entries); the process's own status names one that is gone. */
  private static List<String> threadsOf(Path tasks) throws IOException {
    try (var entries = Files.list(tasks)) {
      return entries.map(t -> t.getFileName().toString()).sorted().toList();
    } catch (java.nio.file.NoSuchFileException e) {
      allowedList(Long.parseLong(tasks.getParent().getFileName().toString())); // throws, naming /proc/<pid>/status
      throw e;
    }
  }

  /**
   * A thread's {@code Cpus_allowed_list} ({@code /proc/<tid>/status} is the thread's own); the
   * expected value for a thread that ended since the listing (nothing left to move).
   */
  private String threadAllowedList(String tid) {
    try {
      return allowedList(Long.parseLong(tid));
    } catch (IllegalStateException e) {
      return list;
    }
  }

  @Override
  public String toString() {
    return list;
  }

  private static BitSet ranges(String spec, String what) {
    BitSet cpus = new BitSet();
    for (String part : spec.split(",", -1)) {
      String[] bounds = part.strip().split("-", -1);
      try {
        if (bounds.length > 2) {
          throw new NumberFormatException();
        }
        int from = Integer.parseInt(bounds[0].strip());
        int to = bounds.length == 2 ? Integer.parseInt(bounds[1].strip()) : from;
        if (from < 0 || to < from || to > 4095) {
          throw new NumberFormatException();
        }
        cpus.set(from, to + 1);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(what + ": \"" + part.strip() + "\" is not a CPU number or range "
            + "(write it as taskset -c takes it: 1, 0-1, 0,2-3)");
      }
    }
    return cpus;
  }

  private static String spelled(BitSet cpus) {
    StringBuilder out = new StringBuilder();
    for (int from = cpus.nextSetBit(0); from >= 0; from = cpus.nextSetBit(from + 1)) {
      int to = cpus.nextClearBit(from) - 1;
      out.append(out.isEmpty() ? "" : ",").append(from).append(from == to ? "" : "-" + to);
      from = to;
    }
    return out.toString();
  }
}
