package io.meshwire.hub.store;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code StoreAppenderMain}: the child process of {@link FileLogStoreCrashIT}. Opens the store in
 * {@code args[0]}, appends from the next revision with up to 32 appends in flight, and prints
 * {@code ack <revision>} once each append is acknowledged. Exits by itself after 60 s or 100,000
 * appends, whichever comes first; the test kills it long before. Single-threaded apart from the
 * store's writer, which prints the acks.
 */
public final class StoreAppenderMain {

  private static final int IN_FLIGHT = 32;
  private static final long MAX_APPENDS = 100_000;
  private static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

  private StoreAppenderMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    long deadline = System.nanoTime() + MAX_NANOS;
    try (FileLogStore store = FileLogStore.open(Path.of(args[0]), FileLogStore.Options.defaults(),
        new SimpleMeterRegistry())) {
      long revision = store.recovered().lastRevision();
      out.println("ready next=" + (revision + 1));
      out.flush();
      Semaphore inFlight = new Semaphore(IN_FLIGHT);
      for (long n = 0; n < MAX_APPENDS && System.nanoTime() < deadline; n++) {
        if (!inFlight.tryAcquire(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("no append acknowledged for 10 s");
        }
        long r = ++revision;
        store.append(r, StoreFixtures.payload(r)).whenComplete((ok, failure) -> {
          // Printed only after the future completed, so every "ack" line is a durable entry.
          out.println(failure == null ? "ack " + r : "failed " + r + " " + failure);
          out.flush();
          inFlight.release();
        });
      }
    }
  }
}
