package io.meshwire.hub.etcd;

import static io.meshwire.hub.etcd.EtcdLayout.bytes;

import com.google.protobuf.InvalidProtocolBufferException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.meshwire.hub.api.Presence;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EtcdPresence} shares last-seen times and link reports between hub replicas through etcd,
 * at a bounded rate: calls only update this replica's memory; every {@code flushInterval} what
 * this replica learned since its last write is written in batched transactions, a link report at
 * once when it changed shape (peers, link states, paths, endpoints), anything else at most every
 * {@code refreshAfter}. Keys are per cluster and replica, on the replica's lease (a dead replica's
 * entries go with it), outside the membership watch: agents' streams never see these writes and
 * replicas read them only when asked (admin calls), the newest last-seen and the newest report
 * winning. Last-seen times ({@code ~seen/<cluster>/<replica>}, a few bytes) and reports
 * ({@code ~reports/<cluster>/<replica>}, up to a peer list) are apart, so listing clusters reads no
 * report.
 *
 * <p>Thread-safe; one flusher thread.
 */
public final class EtcdPresence implements Presence, AutoCloseable {

  static final String SEEN = EtcdMembership.UNWATCHED + "seen/";
  static final String REPORTS = EtcdMembership.UNWATCHED + "reports/";
  private static final Logger log = LoggerFactory.getLogger(EtcdPresence.class);
  private static final byte VERSION = 1;
  private static final int TIME_BYTES = 1 + 12;
  // etcd's default limits: 128 operations and 1.5 MiB per request.
  private static final int MAX_OPS_PER_TXN = 64;
  private static final int MAX_BYTES_PER_TXN = 1 << 20;

  /** How often changes are written, and how old an unchanged entry may get before it is written again. */
  public record Options(Duration flushInterval, Duration refreshAfter) {
    public static Options defaults() {
      return new Options(Duration.ofSeconds(5), Duration.ofSeconds(30));
    }
  }

  /** What one replica knows of a cluster: when it last saw it, and its newest report and when that came. */
  private record Entry(Instant seen, Instant reportedAt, ReportStatusRequest report) {}

  /** What this replica last wrote of a cluster, and when (nanoTime). */
  private record Written(Instant seen, long seenAtNanos, Instant reportedAt, ReportStatusRequest shape,
      long reportAtNanos) {}

  private static final Written NOTHING = new Written(Instant.EPOCH, 0, Instant.EPOCH, null, 0);

  private record Report(Instant reportedAt, ReportStatusRequest report) {}

  private final EtcdMembership membership;
  private final String replica;
  private final Options options;
  private final Map<String, Entry> latest = new ConcurrentHashMap<>();
  private final Map<String, Written> written = new ConcurrentHashMap<>();
  private final ScheduledExecutorService flusher;
  private volatile long writes;

  public EtcdPresence(EtcdMembership membership, String replica, Options options) {
    this.membership = membership;
    this.replica = replica;
    this.options = options;
    membership.closeWith(this);
    // Entries on a lost lease are gone: write everything again on the new one.
    membership.onLeaseGranted(lease -> written.clear());
    this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hub-etcd-presence");
      t.setDaemon(true);
      return t;
    });
    long tick = options.flushInterval().toMillis();
    flusher.scheduleWithFixedDelay(this::flushQuietly, tick, tick, TimeUnit.MILLISECONDS);
  }

  @Override
  public void seen(String clusterId, Instant at) {
    latest.merge(clusterId, new Entry(at, Instant.EPOCH, null),
        (old, now) -> now.seen().isAfter(old.seen()) ? new Entry(now.seen(), old.reportedAt(), old.report()) : old);
  }

  @Override
  public void reported(String clusterId, ReportStatusRequest report) {
    // Wall time: replicas compare it to tell whose report is newer.
    Instant at = Instant.now();
    latest.compute(clusterId, (id, old) -> new Entry(old == null ? Instant.EPOCH : old.seen(), at, report));
  }

  @Override
  public void forget(String clusterId) {
    latest.remove(clusterId);
    written.remove(clusterId);
    try {
      for (String family : List.of(SEEN, REPORTS)) {
        membership.call(membership.client().getKVClient().delete(bytes(membership.prefix() + family + clusterId + "/"),
            DeleteOption.builder().isPrefix(true).build()), "forgetting presence of " + clusterId);
      }
    } catch (EtcdCalls.EtcdCallException e) {
      log.warn("presence of a removed cluster stays in etcd cluster={} error=\"{}\"", clusterId, e.getMessage());
    }
  }

  @Override
  public Map<String, Instant> lastSeen() {
    Map<String, Instant> out = new HashMap<>();
    read(SEEN).forEach((id, values) -> values.forEach(v -> decodeTime(v, 1)
        .ifPresent(t -> out.merge(id, t, EtcdPresence::later))));
    latest.forEach((id, e) -> {
      if (e.seen().isAfter(Instant.EPOCH)) {
        out.merge(id, e.seen(), EtcdPresence::later);
      }
    });
    return out;
  }

  @Override
  public Map<String, ReportStatusRequest> reports() {
    Map<String, Report> newest = new HashMap<>();
    read(REPORTS).forEach((id, values) -> values.forEach(v -> decodeReport(v).ifPresent(r -> newest.merge(id, r,
        EtcdPresence::newer))));
    latest.forEach((id, e) -> {
      if (e.report() != null) {
        newest.merge(id, new Report(e.reportedAt(), e.report()), EtcdPresence::newer);
      }
    });
    Map<String, ReportStatusRequest> out = new HashMap<>();
    newest.forEach((id, r) -> out.put(id, r.report()));
    return out;
  }

  /** How many keys this replica has written to etcd. */
  public long writes() {
    return writes;
  }

  /** Every value under {@code family}, by cluster; empty (and logged) when etcd does not answer. */
  private Map<String, List<byte[]>> read(String family) {
    Map<String, List<byte[]>> out = new HashMap<>();
    String base = membership.prefix() + family;
    try {
      for (KeyValue kv : membership.call(membership.client().getKVClient().get(bytes(base),
          GetOption.builder().isPrefix(true).build()), "reading presence").getKvs()) {
        String rest = kv.getKey().toString(StandardCharsets.UTF_8).substring(base.length());
        int slash = rest.indexOf('/');
        if (slash > 0) {
          out.computeIfAbsent(rest.substring(0, slash), k -> new ArrayList<>()).add(kv.getValue().getBytes());
        }
      }
    } catch (EtcdCalls.EtcdCallException e) {
      log.warn("reading presence from etcd failed; answering with this replica's own error=\"{}\"", e.getMessage());
    }
    return out;
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Report newer(Report a, Report b) {
    return a.reportedAt().isAfter(b.reportedAt()) ? a : b;
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      log.warn("writing presence to etcd failed; retrying at the next flush error=\"{}\"", e.getMessage());
    }
  }

  /** Writes what this replica learned since its last write, as the class comment says. */
  void flush() {
    long lease = membership.leaseId();
    if (lease == 0) {
      return; // not connected yet
    }
    long now = System.nanoTime();
    long refresh = options.refreshAfter().toNanos();
    PutOption onLease = PutOption.builder().withLeaseId(lease).build();
    Batch batch = new Batch();
    for (var e : latest.entrySet()) {
      String id = e.getKey();
      Entry entry = e.getValue();
      Written last = written.get(id);
      boolean seenDue = entry.seen().isAfter(Instant.EPOCH) && (last == null
          || entry.seen().isAfter(last.seen()) && now - last.seenAtNanos() >= refresh);
      ReportStatusRequest shape = shape(entry.report());
      boolean reportDue = entry.report() != null && (last == null || entry.reportedAt().isAfter(last.reportedAt())
          && (!shape.equals(last.shape()) || now - last.reportAtNanos() >= refresh));
      if (!seenDue && !reportDue) {
        continue;
      }
      if (seenDue) {
        batch.add(Op.put(key(SEEN, id), ByteSequence.from(encodeTime(entry.seen())), onLease), TIME_BYTES);
      }
      if (reportDue) {
        byte[] value = encodeReport(entry.reportedAt(), entry.report());
        batch.add(Op.put(key(REPORTS, id), ByteSequence.from(value), onLease), value.length);
      }
      Written before = last != null ? last : NOTHING;
      batch.onCommit(() -> written.put(id, new Written(
          seenDue ? entry.seen() : before.seen(), seenDue ? now : before.seenAtNanos(),
          reportDue ? entry.reportedAt() : before.reportedAt(), reportDue ? shape : before.shape(),
          reportDue ? now : before.reportAtNanos())));
    }
    batch.commit();
  }

  /** Puts in transactions within etcd's limits; what was written is remembered once committed. */
  private final class Batch {
    private List<Op> ops = new ArrayList<>();
    private List<Runnable> done = new ArrayList<>();
    private int bytes;

    void add(Op op, int size) {
      if (!ops.isEmpty() && (ops.size() >= MAX_OPS_PER_TXN || bytes + size > MAX_BYTES_PER_TXN)) {
        commit();
      }
      ops.add(op);
      bytes += size;
    }

    void onCommit(Runnable r) {
      done.add(r);
    }

    void commit() {
      if (ops.isEmpty()) {
        return;
      }
      membership.call(membership.client().getKVClient().txn().Then(ops.toArray(Op[]::new)).commit(),
          "writing presence (" + ops.size() + " keys)");
      done.forEach(Runnable::run);
      writes += ops.size();
      ops = new ArrayList<>();
      done = new ArrayList<>();
      bytes = 0;
    }
  }

  /** A report without what changes on every report (counters, times, RTT): what is worth writing at once. */
  private static ReportStatusRequest shape(ReportStatusRequest report) {
    if (report == null) {
      return null;
    }
    ReportStatusRequest.Builder b = ReportStatusRequest.newBuilder();
    for (PeerLinkStatus p : report.getPeersList()) {
      b.addPeers(PeerLinkStatus.newBuilder().setPeerClusterId(p.getPeerClusterId()).setState(p.getState())
          .setEndpoint(p.getEndpoint()).setPath(p.getPath()));
    }
    return b.build();
  }

  private ByteSequence key(String family, String clusterId) {
    return bytes(membership.prefix() + family + clusterId + "/" + replica);
  }

  private static byte[] encodeTime(Instant t) {
    return ByteBuffer.allocate(TIME_BYTES).put(VERSION).putLong(t.getEpochSecond()).putInt(t.getNano()).array();
  }

  private static byte[] encodeReport(Instant reportedAt, ReportStatusRequest report) {
    byte[] bytes = report.toByteArray();
    return ByteBuffer.allocate(TIME_BYTES + bytes.length).put(encodeTime(reportedAt)).put(bytes).array();
  }

  /** The time at {@code offset} (after the version byte), if the value is one this version wrote. */
  private static java.util.Optional<Instant> decodeTime(byte[] value, int offset) {
    if (value.length < TIME_BYTES || value[0] != VERSION) {
      return java.util.Optional.empty();
    }
    ByteBuffer in = ByteBuffer.wrap(value, offset, 12);
    return java.util.Optional.of(Instant.ofEpochSecond(in.getLong(), in.getInt()));
  }

  private static java.util.Optional<Report> decodeReport(byte[] value) {
    try {
      return decodeTime(value, 1).map(at -> {
        try {
          return new Report(at, ReportStatusRequest.parseFrom(ByteBuffer.wrap(value, TIME_BYTES,
              value.length - TIME_BYTES)));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException(e);
        }
      });
    } catch (IllegalArgumentException e) {
      return java.util.Optional.empty();
    }
  }

  @Override
  public void close() {
    flusher.shutdownNow();
  }
}
