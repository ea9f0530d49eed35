package io.meshwire.hub.log;

import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent;
import io.meshwire.hub.policy.PeeringMode;

/**
 * {@code EventCodec} turns log events and whole states into bytes and back. The bytes of an event
 * are what the store keeps and what watchers receive, so the log encodes each event once.
 * Implementations are stateless and thread-safe.
 */
public interface EventCodec {

  byte[] encodeEvent(long revision, MembershipEvent event);

  /**
   * A record upsert as the receivers that may reach the record's cluster only in {@code mode}
   * see it (the stored bytes of the upsert are the DIRECT form).
   */
  byte[] encodeUpsert(long revision, ClusterRecord record, PeeringMode mode);

  /** Decodes what {@link #encodeEvent} wrote; used when replaying the store. */
  MembershipEvent decodeEvent(byte[] encoded);

  byte[] encodeState(SnapshotImage image);

  SnapshotImage decodeState(long revision, byte[] encoded);
}
