package io.meshwire.hub.log;

import io.meshwire.hub.membership.MembershipEvent;

/**
 * {@code EventCodec} turns log events and whole states into bytes and back. The bytes of an event
 * are what the store keeps and what watchers receive, so the log encodes each event once.
 * Implementations are stateless and thread-safe.
 */
public interface EventCodec {

  byte[] encodeEvent(long revision, MembershipEvent event);

  /** Decodes what {@link #encodeEvent} wrote; used when replaying the store. */
  MembershipEvent decodeEvent(byte[] encoded);

  byte[] encodeState(SnapshotImage image);

  SnapshotImage decodeState(long revision, byte[] encoded);
}
