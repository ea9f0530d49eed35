package io.meshwire.agent.exec;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ProcessCommandRunner} is the real {@link CommandRunner}: it starts programs with {@link
 * ProcessBuilder} in the agent's own network namespace. Stdout and stderr are read fully on their
 * own virtual threads (a program that fills one pipe while we read the other cannot deadlock), stdin
 * is written on a third. A program that outlives its timeout is killed with SIGKILL together with
 * any descendants. Each run logs one DEBUG line with argv, exit code and duration.
 *
 * <p>Thread-safe and stateless.
 */
public final class ProcessCommandRunner implements CommandRunner {
  private static final Logger log = LoggerFactory.getLogger(ProcessCommandRunner.class);

  /** How long to wait for the pipes to drain after the process has gone. */
  private static final Duration DRAIN_GRACE = Duration.ofSeconds(2);

  @Override
  public Result run(List<String> argv, byte[] stdin, Duration timeout) {
    List<String> command = checkArgv(argv);
    Objects.requireNonNull(stdin, "stdin");
    Objects.requireNonNull(timeout, "timeout");
    long started = System.nanoTime();
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw CommandFailedException.notRun(command, "could not be started: " + e.getMessage(), e);
    }
    Drain out = Drain.start(process.getInputStream(), command.get(0) + "-stdout");
    Drain err = Drain.start(process.getErrorStream(), command.get(0) + "-stderr");
    Thread feeder = Thread.ofVirtual().name(command.get(0) + "-stdin").start(() -> feed(process, stdin));
    boolean exited;
    try {
      exited = process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      kill(process);
      Thread.currentThread().interrupt();
      throw CommandFailedException.notRun(command, "was interrupted while running", e);
    }
    if (!exited) {
      kill(process);
    }
    Result result =
        new Result(exited ? process.exitValue() : -1, out.finish(), err.finish());
    feeder.interrupt();
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    log.debug("exec argv={} exit={} timedOut={} ms={}", command, result.exitCode(), !exited, millis);
    if (!exited) {
      throw CommandFailedException.timedOut(command, timeout, result);
    }
    if (result.exitCode() != 0) {
      throw CommandFailedException.exited(command, result);
    }
    return result;
  }

  @Override
  public Process startDetached(List<String> argv, Path output) {
    List<String> command = checkArgv(argv);
    Objects.requireNonNull(output, "output");
    // setsid(1) calls setsid() and execs the program in place (a child of the JVM is never a
    // process group leader, so it does not fork): the PID stays the program's own.
    List<String> detached = new ArrayList<>(command.size() + 1);
    detached.add("setsid");
    detached.addAll(command);
    Process process;
    try {
      process =
          new ProcessBuilder(detached)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
    } catch (IOException e) {
      throw CommandFailedException.notRun(command, "could not be started: " + e.getMessage(), e);
    }
    log.debug("spawn argv={} pid={} output={}", command, process.pid(), output);
    return process;
  }

  private static List<String> checkArgv(List<String> argv) {
    List<String> command = List.copyOf(argv);
    if (command.isEmpty() || command.get(0).isBlank()) {
      throw new IllegalArgumentException("argv " + argv + ": needs a program name");
    }
    return command;
  }

  private static void feed(Process process, byte[] stdin) {
    try (OutputStream in = process.getOutputStream()) {
      in.write(stdin);
    } catch (IOException e) {
      // The program exited or closed stdin without reading it; its exit code tells the story.
      log.debug("exec stdin not fully written pid={} reason={}", process.pid(), e.getMessage());
    }
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(DRAIN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Reads one pipe to its end on a virtual thread. */
  private static final class Drain {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final Thread thread;

    private Drain(InputStream stream, String name) {
      this.thread = Thread.ofVirtual().name(name).unstarted(() -> copy(stream));
    }

    static Drain start(InputStream stream, String name) {
      Drain drain = new Drain(stream, name);
      drain.thread.start();
      return drain;
    }

    private void copy(InputStream stream) {
      byte[] chunk = new byte[8192];
      try (stream) {
        for (int n = stream.read(chunk); n >= 0; n = stream.read(chunk)) {
          synchronized (buffer) {
            buffer.write(chunk, 0, n);
          }
        }
      } catch (IOException e) {
        log.debug("exec pipe closed thread={} reason={}", thread.getName(), e.getMessage());
      }
    }

    /** Waits (bounded) for the pipe to reach its end and returns what it held. */
    String finish() {
      try {
        // A descendant that inherited the pipe can keep it open; do not wait for it forever.
        thread.join(DRAIN_GRACE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (buffer) {
        return buffer.toString(StandardCharsets.UTF_8);
      }
    }
  }
}
