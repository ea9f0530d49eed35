package io.meshwire.hub.log;

import io.meshwire.hub.membership.MembershipEvent;

import java.util.function.Predicate;

/**
 * {@code LogEntry} is one revision of the membership log (or one of several entries of a revision,
 * each for other watchers): the event, its bytes as encoded once for every watcher it goes to, when
 * it was appended (for fan-out lag), and its audience. Immutable; {@code encoded} is shared and
 * must not be modified.
 *
 * <p>The audience is decided when the entry is appended, under the peering rules of that
 * revision: a watcher that follows the log from any revision therefore ends with exactly the
 * records its rules allow, whatever the rules are later.
 */
public record LogEntry(long revision, MembershipEvent event, byte[] encoded, long appendedNanos,
    Predicate<String> audience) {

  /** An entry for the event's addressee, or for every watcher when it has none. */
  public LogEntry(long revision, MembershipEvent event, byte[] encoded, long appendedNanos) {
    this(revision, event, encoded, appendedNanos, addressedTo(event.addressee()));
  }

  /** True when a watcher of {@code clusterId} may receive this entry. */
  public boolean isFor(String clusterId) {
    return audience.test(clusterId);
  }

  /** The audience of one cluster, or of everyone when {@code addressee} is null. */
  public static Predicate<String> addressedTo(String addressee) {
    return addressee == null ? id -> true : addressee::equals;
  }
}
