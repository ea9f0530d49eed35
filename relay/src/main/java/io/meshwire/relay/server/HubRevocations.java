package io.meshwire.relay.server;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.meshwire.certs.CertificateStoreException;
import io.meshwire.certs.RevocationList;
import io.meshwire.certs.RevocationList.Entry;
import io.meshwire.certs.SpiffeId;
import io.meshwire.proto.admin.v1.ListRevocationsRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.Revocation;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code HubRevocations} is a standalone relay's revocation list learnt from the hub: it calls the
 * hub's {@code MeshAdmin/ListRevocations} (allowed to hub-role certificates, which a relay has)
 * every {@code every}, so with the relay's sweep a revocation reaches the relay's connections
 * within about {@code every} + the sweep interval (500 ms + 500 ms by default: the issue asks for
 * 2 s). While the hub is unreachable the relay keeps the last list it learnt; each answer is also
 * written to a cache file (the hub's own file format, fsync), so a relay restarted while the hub is
 * down starts from it instead of from nothing.
 *
 * <p>The list only grows: an entry the hub stops listing stays revoked here (the hub never lifts a
 * revocation; a later cut-off, from a re-enrollment, replaces the earlier one), so a hub restored
 * from an old backup cannot readmit a revoked cluster through this relay.
 *
 * <p>Metrics: {@code meshwire_relay_revocations} (entries known) and
 * {@code meshwire_relay_revocations_age_seconds} (since the last answer from the hub; grows while
 * it is down; after a restart before the hub answers: since the cache was last written, an upper
 * bound; NaN when there is neither). Thread-safe: the poll thread owns the cache and the failure state; readers see an
 * immutable map through a volatile field.
 */
public final class HubRevocations implements RevocationCheck, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HubRevocations.class);
  /** Hub answer deadline: a slow hub must not hold the poll thread past the next poll by much. */
  private static final Duration DEADLINE = Duration.ofSeconds(2);

  private final ManagedChannel hub;
  private final String hubName;
  private final ScheduledExecutorService poller;
  private volatile Map<SpiffeId, Entry> known;
  /** Wall-clock millis of the last answer from the hub (or of the cache's last write); 0: neither. */
  private volatile long lastAnswerMillis;
  /** Poll thread only: where answers are kept across restarts, or null when it could not be read. */
  private final RevocationList cache;
  /** Poll thread only: whether {@code known} holds entries the cache file does not have yet. */
  private boolean cacheBehind;
  /** Poll thread only: whether the last cache write failed (logged once per streak). */
  private boolean failedCacheWrite;
  /** Poll thread only: consecutive failed polls (logged once per streak). */
  private int failures;

  private HubRevocations(ManagedChannel hub, String hubName, RevocationList cache, MeterRegistry meters) {
    this.hub = hub;
    this.hubName = hubName;
    this.cache = cache;
    this.known = cache == null ? Map.of() : byId(cache);
    this.lastAnswerMillis = cache == null ? 0 : lastWrittenMillis(cache.file());
    this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "relay-hub-revocations");
      t.setDaemon(true);
      return t;
    });
    Gauge.builder("meshwire.relay.revocations", () -> known.size())
        .description("Revoked identities known to the relay (learnt from the hub)").register(meters);
    Gauge.builder("meshwire.relay.revocations.age", () -> lastAnswerMillis == 0 ? Double.NaN
            : Math.max(0, System.currentTimeMillis() - lastAnswerMillis) / 1e3)
        .baseUnit("seconds").description("Time since the hub last answered the relay's revocation poll")
        .register(meters);
  }

  /**
   * Starts polling {@code hub} (a channel presenting the relay's hub-role certificate) every
   * {@code every}; the first poll runs at once. {@code cacheFile} is read now (the last list learnt,
   * if any) and rewritten once per poll that learns something (a failed write is retried at the next
   * poll; the entries are in force before they are written). A cache that cannot be read is logged and left as it
   * is (the relay then starts with an empty list until the hub answers, and keeps it in memory only).
   */
  public static HubRevocations start(ManagedChannel hub, String hubName, Path cacheFile, Duration every,
      MeterRegistry meters) {
    if (every.isNegative() || every.isZero() || every.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("relay hub revocation poll " + every
          + ": between 1 ms and 1 s (revoked clusters must be cut within 2 s)");
    }
    RevocationList cache;
    try {
      cache = RevocationList.open(cacheFile);
      log.info("event=hub_revocations_cache_loaded file={} entries={}", cacheFile, cache.entries().size());
    } catch (CertificateStoreException e) {
      log.warn("event=hub_revocations_cache_unreadable file={} error=\"{}\" (left as is; the list is kept in memory)",
          cacheFile, e.getMessage());
      cache = null;
    }
    HubRevocations revocations = new HubRevocations(hub, hubName, cache, meters);
    revocations.poller.scheduleWithFixedDelay(revocations::poll, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    return revocations;
  }

  @Override
  public boolean isRevoked(X509Certificate cert) {
    return RevocationList.revokedBy(known, cert);
  }

  /** Identities known revoked now (tests, status). */
  public Map<SpiffeId, Entry> known() {
    return known;
  }

  private void poll() {
    java.util.List<Revocation> answer;
    try {
      answer = MeshAdminGrpc.newBlockingStub(hub).withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
          .listRevocations(ListRevocationsRequest.getDefaultInstance()).getRevocationsList();
    } catch (StatusRuntimeException e) {
      if (failures++ == 0) {
        // UNAVAILABLE/DEADLINE_EXCEEDED: the hub is down; PERMISSION_DENIED: not a hub-role
        // certificate; UNIMPLEMENTED: a hub older than ListRevocations.
        log.warn("event=hub_revocations_poll_failed hub={} code={} error=\"{}\" kept={} "
            + "(the last list learnt stays in force)", hubName, e.getStatus().getCode(),
            e.getStatus().getDescription(), known.size());
      }
      return;
    } catch (RuntimeException e) {
      log.warn("event=hub_revocations_poll_failed hub={} error=\"{}\"", hubName, e.toString());
      return;
    }
    lastAnswerMillis = System.currentTimeMillis();
    if (failures > 0) {
      log.info("event=hub_revocations_restored hub={} failed_polls={}", hubName, failures);
      failures = 0;
    }
    Map<SpiffeId, Entry> next = new HashMap<>(known);
    int added = 0;
    for (Revocation r : answer) {
      Entry entry;
      try {
        entry = new Entry(SpiffeId.parse(r.getSpiffeId()),
            Instant.ofEpochSecond(r.getRevokedBefore().getSeconds(), r.getRevokedBefore().getNanos()), r.getReason());
      } catch (RuntimeException e) {
        log.warn("event=hub_revocation_unparsable hub={} spiffe_id=\"{}\" error=\"{}\"", hubName, r.getSpiffeId(),
            e.getMessage());
        continue;
      }
      Entry had = next.get(entry.id());
      if (had == null || entry.at().isAfter(had.at())) {
        next.put(entry.id(), entry);
        added++;
      }
    }
    if (added > 0) {
      known = Map.copyOf(next); // in force now; the disk write below must not delay a revocation
      cacheBehind = true;
      log.info("event=hub_revocations_updated hub={} new={} entries={}", hubName, added, next.size());
    }
    writeCache();
  }

  /** One durable write of what the cache lacks; a failure is logged once and retried next poll. */
  private void writeCache() {
    if (cache == null || !cacheBehind) {
      return;
    }
    try {
      cache.revokeAll(known.values());
      if (failedCacheWrite) {
        log.info("event=hub_revocations_cache_written file={} entries={}", cache.file(), known.size());
      }
      cacheBehind = false;
      failedCacheWrite = false;
    } catch (CertificateStoreException e) {
      if (!failedCacheWrite) {
        log.warn("event=hub_revocations_cache_unwritable file={} error=\"{}\" (kept in memory; retried each poll)",
            cache.file(), e.getMessage());
      }
      failedCacheWrite = true;
    }
  }

  private static long lastWrittenMillis(Path file) {
    try {
      return Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      return 0; // no cache written yet
    }
  }

  private static Map<SpiffeId, Entry> byId(RevocationList list) {
    Map<SpiffeId, Entry> out = new HashMap<>();
    list.entries().forEach(e -> out.put(e.id(), e));
    return Map.copyOf(out);
  }

  /** Stops polling and closes the hub channel. */
  @Override
  public void close() {
    poller.shutdownNow();
    hub.shutdownNow();
  }
}
