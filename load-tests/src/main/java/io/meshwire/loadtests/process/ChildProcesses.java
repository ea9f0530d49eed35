package io.meshwire.loadtests.process;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code ChildProcesses} remembers, by PID, every process the bench started, so that a JVM shutdown
 * hook can SIGKILL whatever is still running when the bench ends abnormally (an exception, Ctrl-C).
 * Normal paths stop their children themselves and {@link #forget} them. Thread-safe.
 */
public final class ChildProcesses {

  private static final Set<Long> PIDS = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ChildProcesses::killAll, "bench-children-kill"));
  }

  private ChildProcesses() {}

  public static void remember(Process process) {
    PIDS.add(process.pid());
  }

  public static void forget(Process process) {
    PIDS.remove(process.pid());
  }

  /** SIGKILLs every remembered process still alive (only those PIDs, never by name). */
  public static void killAll() {
    for (Long pid : PIDS) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    PIDS.clear();
  }
}
