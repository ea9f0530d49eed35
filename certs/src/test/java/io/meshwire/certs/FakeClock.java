package io.meshwire.certs;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * {@code FakeClock} is an {@link InstantSource} that tests move by hand; the one fake clock of the
 * tree (other modules' tests get it from this module's test-jar). Thread-safe.
 */
public final class FakeClock implements InstantSource {

  public static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

  private volatile Instant now;

  public FakeClock(Instant start) {
    this.now = start;
  }

  public FakeClock() {
    this(T0);
  }

  @Override
  public Instant instant() {
    return now;
  }

  public synchronized void advance(Duration d) {
    now = now.plus(d);
  }

  public void set(Instant instant) {
    now = instant;
  }
}
