package io.meshwire.hub.etcd;

import static io.meshwire.hub.etcd.EtcdLayout.bytes;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.meshwire.hub.api.AuditLog;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EtcdAudit} keeps the audit events of every hub replica in etcd, as a ring of at most
 * {@code capacity} keys under {@code audit/}: an event's sequence is the etcd revision that stored
 * it, so it means the same on every replica and {@code WatchAudit} can resume on another one.
 * Each replica learns every replica's events through its membership watch and hands them to its
 * {@link AuditLog}; whichever replica sees more than {@code capacity} keys deletes the oldest.
 *
 * <p>Writes never block the caller: an event etcd does not take is still in the replica's
 * {@code meshwire.audit} log line, and the failure is logged. Thread-safe.
 */
public final class EtcdAudit implements AuditLog.Shared, EtcdMembership.KeyListener {

  /** The sub-prefix (relative to the hub's prefix) of the audit keys. */
  public static final String PREFIX = "audit/";
  private static final Logger log = LoggerFactory.getLogger(EtcdAudit.class);
  private static final int VERSION = 1;
  private static final int MAX_FIELD_CHARS = 2_000;
  private static final int MAX_DELETES_PER_TXN = 64;

  private final String replica;
  private final int capacity;
  private final AtomicLong counter = new AtomicLong();
  // @GuardedBy("this"): relative key by the revision that wrote it
  private final TreeMap<Long, String> keys = new TreeMap<>();
  private final AuditLog audit;
  private volatile EtcdMembership membership;

  public EtcdAudit(String replica, int capacity, InstantSource clock) {
    this.replica = replica;
    this.capacity = capacity;
    this.audit = new AuditLog(clock, capacity, this);
  }

  /** The replica's audit log: its events go to etcd, every replica's come back into it. */
  public AuditLog log() {
    return audit;
  }

  /** Connects the store to the replica's membership, which it writes through. */
  public void bind(EtcdMembership membership) {
    this.membership = membership;
  }

  @Override
  public void publish(AuditLog.Event event) {
    EtcdMembership m = membership;
    if (m == null) {
      return;
    }
    // Time first, so the keys sort roughly by age; replica and counter make them unique.
    String key = PREFIX + String.format("%013d", event.time().toEpochMilli()) + "-" + replica + "-"
        + counter.incrementAndGet();
    m.client().getKVClient().put(bytes(m.prefix() + key), ByteSequence.from(encode(event)), PutOption.DEFAULT)
        .orTimeout(5, TimeUnit.SECONDS)
        .whenComplete((ok, failure) -> {
          if (failure != null) {
            log.warn("audit event not stored in etcd action={} subject={} error=\"{}\"", event.action(),
                event.subject(), EtcdCalls.rootMessage(failure));
          } else {
            trim(m);
          }
        });
  }

  @Override
  public void loaded(Map<String, Stored> values, long revision) {
    List<AuditLog.Event> events = new ArrayList<>();
    synchronized (this) {
      keys.clear();
      values.forEach((key, stored) -> keys.put(stored.modRevision(), key));
    }
    values.values().stream().sorted(Comparator.comparingLong(Stored::modRevision))
        .forEach(s -> decode(s.value(), s.modRevision(), "loaded").ifPresent(events::add));
    audit.reload(events);
  }

  @Override
  public void changed(String key, byte[] value, long revision) {
    if (value == null) {
      synchronized (this) {
        keys.values().remove(key);
      }
      return;
    }
    synchronized (this) {
      keys.put(revision, key);
    }
    decode(value, revision, key).ifPresent(audit::received);
  }

  /** Deletes the oldest keys beyond {@code capacity} (several replicas may race: deletes are idempotent). */
  private void trim(EtcdMembership m) {
    List<String> oldest = new ArrayList<>();
    synchronized (this) {
      int excess = Math.min(keys.size() - capacity, MAX_DELETES_PER_TXN);
      var it = keys.values().iterator();
      for (int i = 0; i < excess && it.hasNext(); i++) {
        oldest.add(it.next());
      }
    }
    if (oldest.isEmpty()) {
      return;
    }
    Op[] deletes = oldest.stream().map(k -> Op.delete(bytes(m.prefix() + k), DeleteOption.DEFAULT)).toArray(Op[]::new);
    m.client().getKVClient().txn().Then(deletes).commit().orTimeout(5, TimeUnit.SECONDS)
        .whenComplete((ok, failure) -> {
          if (failure != null) {
            log.warn("trimming the audit ring in etcd failed keys={} error=\"{}\"", oldest.size(),
                EtcdCalls.rootMessage(failure));
          }
        });
  }

  static byte[] encode(AuditLog.Event e) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (DataOutputStream data = new DataOutputStream(out)) {
      data.writeByte(VERSION);
      data.writeLong(e.time().getEpochSecond());
      data.writeInt(e.time().getNano());
      for (String field : List.of(e.actor(), e.action(), e.subject(), e.detail())) {
        // writeUTF holds at most 64 KiB; audit fields are short (inputs are quoted to 200 chars).
        data.writeUTF(field.length() > MAX_FIELD_CHARS ? field.substring(0, MAX_FIELD_CHARS) : field);
      }
    } catch (IOException impossible) {
      throw new IllegalStateException(impossible);
    }
    return out.toByteArray();
  }

  static java.util.Optional<AuditLog.Event> decode(byte[] value, long sequence, String where) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
      int version = in.readByte();
      if (version != VERSION) {
        log.warn("ignoring audit event of unknown version key={} version={}", where, version);
        return java.util.Optional.empty();
      }
      Instant time = Instant.ofEpochSecond(in.readLong(), in.readInt());
      return java.util.Optional.of(new AuditLog.Event(sequence, time, in.readUTF(), in.readUTF(), in.readUTF(),
          in.readUTF()));
    } catch (IOException | RuntimeException e) {
      log.warn("ignoring unreadable audit event key={} error=\"{}\"", where, e.toString());
      return java.util.Optional.empty();
    }
  }

}
