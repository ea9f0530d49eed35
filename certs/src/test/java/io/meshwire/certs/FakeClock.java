package io.meshwire.certs;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** {@code FakeClock} is an {@link InstantSource} that tests move by hand. Thread-safe. */
final class FakeClock implements InstantSource {

  static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

  private volatile Instant now;

  FakeClock(Instant start) {
    this.now = start;
  }

  FakeClock() {
    this(T0);
  }

  @Override
  public Instant instant() {
    return now;
  }

  synchronized void advance(Duration d) {
    now = now.plus(d);
  }

  void set(Instant instant) {
    now = instant;
  }
}
