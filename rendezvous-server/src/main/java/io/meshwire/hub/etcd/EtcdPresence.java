package io.meshwire.hub.etcd;

import static io.meshwire.hub.etcd.EtcdLayout.bytes;

import com.google.protobuf.InvalidProtocolBufferException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
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
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EtcdPresence} shares last-seen times and link reports between hub replicas through etcd,
 * at a bounded rate: calls only update this replica's memory; every {@code flushInterval} the
 * clusters whose report changed shape (peers, link states, paths, endpoints), or whose entry is
 * older than {@code refreshAfter}, are written in batched transactions, one key per cluster and
 * replica ({@code ~status/<cluster>/<replica>}, on the replica's lease, so a dead replica's entries
 * go with it) outside the membership watch: agents' streams never see these writes and replicas
 * read them only when asked (admin calls), newest last-seen and newest report winning. A replica
 * writes only what it learned itself since its last write.
 *
 * <p>Thread-safe; one flusher thread.
 */
public final class EtcdPresence implements Presence, AutoCloseable {

  static final String PREFIX = EtcdMembership.UNWATCHED + "status/";
  private static final Logger log = LoggerFactory.getLogger(EtcdPresence.class);
  private static final byte VERSION = 1;
  private static final int HEADER_BYTES = 1 + 12 + 12;
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

  private record Written(Instant seen, ReportStatusRequest shape, long atNanos) {}

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
      membership.call(membership.client().getKVClient().delete(bytes(membership.prefix() + PREFIX + clusterId + "/"),
          io.etcd.jetcd.options.DeleteOption.builder().isPrefix(true).build()), "forgetting presence of " + clusterId);
    } catch (EtcdCalls.EtcdCallException e) {
      log.warn("presence of a removed cluster stays in etcd cluster={} error=\"{}\"", clusterId, e.getMessage());
    }
  }

  @Override
  public Map<String, Instant> lastSeen() {
    Map<String, Instant> out = new HashMap<>();
    merged().forEach((id, e) -> {
      if (e.seen().isAfter(Instant.EPOCH)) {
        out.put(id, e.seen());
      }
    });
    return out;
  }

  @Override
  public Map<String, ReportStatusRequest> reports() {
    Map<String, ReportStatusRequest> out = new HashMap<>();
    merged().forEach((id, e) -> {
      if (e.report() != null) {
        out.put(id, e.report());
      }
    });
    return out;
  }

  /** How many cluster entries this replica has written to etcd. */
  public long writes() {
    return writes;
  }

  /** What etcd holds, with this replica's newer knowledge on top (it may not be flushed yet). */
  private Map<String, Entry> merged() {
    Map<String, Entry> out = new HashMap<>();
    try {
      for (KeyValue kv : membership.call(membership.client().getKVClient().get(bytes(membership.prefix() + PREFIX),
          GetOption.builder().isPrefix(true).build()), "reading presence").getKvs()) {
        String rest = kv.getKey().toString(StandardCharsets.UTF_8).substring(membership.prefix().length()
            + PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash > 0) {
          decode(kv.getValue().getBytes()).ifPresent(e -> out.merge(rest.substring(0, slash), e, EtcdPresence::newer));
        }
      }
    } catch (EtcdCalls.EtcdCallException e) {
      log.warn("reading presence from etcd failed; answering with this replica's own error=\"{}\"", e.getMessage());
    }
    latest.forEach((id, mine) -> out.merge(id, mine, EtcdPresence::newer));
    return out;
  }

  /** The newer last-seen of the two, and the newer report. */
  private static Entry newer(Entry a, Entry b) {
    Instant seen = a.seen().isAfter(b.seen()) ? a.seen() : b.seen();
    Entry reported = a.reportedAt().isAfter(b.reportedAt()) ? a : b;
    return new Entry(seen, reported.reportedAt(), reported.report());
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      log.warn("writing presence to etcd failed; retrying at the next flush error=\"{}\"", e.getMessage());
    }
  }

  /** Writes what changed since the last flush (bounded by {@code refreshAfter} for unchanged entries). */
  void flush() {
    long lease = membership.leaseId();
    if (lease == 0) {
      return; // not connected yet
    }
    long now = System.nanoTime();
    List<Op> ops = new ArrayList<>();
    List<Runnable> onCommit = new ArrayList<>();
    int batchBytes = 0;
    for (var e : latest.entrySet()) {
      String id = e.getKey();
      Entry entry = e.getValue();
      Written last = written.get(id);
      ReportStatusRequest shape = shape(entry.report());
      boolean learnedSince = last == null || entry.seen().isAfter(last.seen())
          || !Objects.equals(shape, last.shape());
      boolean due = last == null || !Objects.equals(shape, last.shape())
          || now - last.atNanos() >= options.refreshAfter().toNanos();
      if (!learnedSince || !due) {
        continue;
      }
      byte[] value = encode(entry);
      if (!ops.isEmpty() && (ops.size() >= MAX_OPS_PER_TXN || batchBytes + value.length > MAX_BYTES_PER_TXN)) {
        commit(ops, onCommit);
        ops = new ArrayList<>();
        onCommit = new ArrayList<>();
        batchBytes = 0;
      }
      ops.add(Op.put(key(id), ByteSequence.from(value), PutOption.builder().withLeaseId(lease).build()));
      onCommit.add(() -> written.put(id, new Written(entry.seen(), shape, now)));
      batchBytes += value.length;
    }
    if (!ops.isEmpty()) {
      commit(ops, onCommit);
    }
  }

  private void commit(List<Op> ops, List<Runnable> onCommit) {
    membership.call(membership.client().getKVClient().txn().Then(ops.toArray(Op[]::new)).commit(),
        "writing presence of " + ops.size() + " clusters");
    onCommit.forEach(Runnable::run);
    writes += ops.size();
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

  private ByteSequence key(String clusterId) {
    return bytes(membership.prefix() + PREFIX + clusterId + "/" + replica);
  }

  private static byte[] encode(Entry e) {
    byte[] report = e.report() == null ? new byte[0] : e.report().toByteArray();
    return ByteBuffer.allocate(HEADER_BYTES + report.length).put(VERSION).putLong(e.seen().getEpochSecond())
        .putInt(e.seen().getNano()).putLong(e.reportedAt().getEpochSecond()).putInt(e.reportedAt().getNano())
        .put(report).array();
  }

  private static java.util.Optional<Entry> decode(byte[] value) {
    if (value.length < HEADER_BYTES || value[0] != VERSION) {
      return java.util.Optional.empty();
    }
    ByteBuffer in = ByteBuffer.wrap(value);
    in.get();
    Instant seen = Instant.ofEpochSecond(in.getLong(), in.getInt());
    Instant reportedAt = Instant.ofEpochSecond(in.getLong(), in.getInt());
    if (reportedAt.equals(Instant.EPOCH)) {
      return java.util.Optional.of(new Entry(seen, reportedAt, null));
    }
    try {
      return java.util.Optional.of(new Entry(seen, reportedAt, ReportStatusRequest.parseFrom(in)));
    } catch (InvalidProtocolBufferException e) {
      return java.util.Optional.of(new Entry(seen, Instant.EPOCH, null));
    }
  }

  @Override
  public void close() {
    flusher.shutdownNow();
  }
}
