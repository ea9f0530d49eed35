package io.meshwire.loadtests.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * {@code ChildProcess} is one process the bench runs (a hub JVM, etcd): started with its output
 * appended to a log file by a drain thread, remembered in {@link ChildProcesses} until stopped.
 * Thread-safe for {@link #stop} and {@link #kill}.
 */
final class ChildProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final CompletableFuture<String> readyLine = new CompletableFuture<>();

  private ChildProcess(String name, Process process) {
    this.name = name;
    this.process = process;
  }

  /**
   * Starts {@code command}; its stdout and stderr go to {@code logFile} (appended). The first
   * output line matching {@code ready} completes {@link #awaitReady}.
   */
  public static ChildProcess start(String name, List<String> command, Path logFile, Predicate<String> ready) {
    Process p;
    try {
      Files.createDirectories(logFile.getParent());
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + command.get(0) + "): " + e.getMessage(), e);
    }
    ChildProcesses.remember(p);
    ChildProcess child = new ChildProcess(name, p);
    Thread.ofPlatform().daemon().name(name + "-output").start(() -> child.drain(logFile, ready));
    return child;
  }

  private void drain(Path logFile, Predicate<String> ready) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter log = new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
            StandardOpenOption.CREATE, StandardOpenOption.APPEND), true)) {
      String line;
      while ((line = in.readLine()) != null) {
        log.println(line);
        if (!readyLine.isDone() && ready.test(line)) {
          readyLine.complete(line);
        }
      }
    } catch (IOException e) {
      // The process went away while we read: nothing more to copy.
    } finally {
      readyLine.completeExceptionally(new IllegalStateException(name + " exited before it was ready (see "
          + logFile + ")"));
    }
  }

  /** Waits for the ready line; returns it. Kills the process when it does not come in time. */
  public String awaitReady(Duration within) {
    try {
      return readyLine.get(within.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      kill();
      throw new IllegalStateException(name + " not ready within " + within.toSeconds() + "s", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
      throw new IllegalStateException("interrupted waiting for " + name, e);
    }
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, then waits (bounded) until the process is gone. */
  public void kill() {
    process.destroyForcibly();
    waitGone(Duration.ofSeconds(10));
  }

  /** SIGTERM, then SIGKILL if it has not exited within {@code grace}. */
  public void stop(Duration grace) {
    process.destroy();
    if (!waitGone(grace)) {
      kill();
    }
  }

  private boolean waitGone(Duration within) {
    try {
      boolean gone = process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS);
      if (gone) {
        ChildProcesses.forget(process);
      }
      return gone;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    } else {
      ChildProcesses.forget(process);
    }
  }

  @Override
  public String toString() {
    return name + "[pid " + process.pid() + "]";
  }
}
