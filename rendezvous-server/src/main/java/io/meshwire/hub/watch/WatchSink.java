package io.meshwire.hub.watch;

import java.time.Duration;

/**
 * {@code WatchSink} is where a subscription writes: the transport's stream, seen through the
 * three things the fan-out needs. Called from one drain at a time per subscription.
 */
public interface WatchSink {

  /** True while the transport can take another message without buffering (flow control). */
  boolean isReady();

  /** Writes one already-encoded {@code WatchEvent}. */
  void send(byte[] encodedEvent);

  /** Ends the stream with an error the agent should act on. */
  void fail(Failure failure);

  /** Why a stream ends; {@code retryAfter} is the back-off hint, zero when there is none. */
  record Failure(Kind kind, String message, Duration retryAfter) {
    public enum Kind { REVOKED, OVERLOADED, SHUTTING_DOWN }
  }
}
