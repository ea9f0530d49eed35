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
 * it is down). Thread-safe: the poll thread owns the cache and the failure state; readers see an
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
  private volatile long lastAnswerNanos;
  /** Poll thread only: where answers are kept across restarts, or null once it cannot be written. */
  private RevocationList cache;
  /** Poll thread only: consecutive failed polls (logged once per streak). */
  private int failures;

  private HubRevocations(ManagedChannel hub, String hubName, RevocationList cache, MeterRegistry meters) {
    this.hub = hub;
    this.hubName = hubName;
    this.cache = cache;
    this.known = cache == null ? Map.of() : byId(cache);
    this.lastAnswerNanos = System.nanoTime();
    this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "relay-hub-revocations");
      t.setDaemon(true);
      return t;
    });
    Gauge.builder("meshwire.relay.revocations", () -> known.size())
        .description("Revoked identities known to the relay (learnt from the hub)").register(meters);
    Gauge.builder("meshwire.relay.revocations.age", () -> (System.nanoTime() - lastAnswerNanos) / 1e9)
        .baseUnit("seconds").description("Time since the hub last answered the relay's revocation poll")
        .register(meters);
  }

  /**
   * Starts polling {@code hub} (a channel presenting the relay's hub-role certificate) every
   * {@code every}; the first poll runs at once. {@code cacheFile} is read now (the last list learnt,
   * if any) and rewritten with each new entry. A cache that cannot be read is logged and left as it
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
        log.warn("event=hub_revocations_unreachable hub={} error=\"{}\" kept={} (the last list learnt stays in force)",
            hubName, e.getStatus(), known.size());
      }
      return;
    } catch (RuntimeException e) {
      log.warn("event=hub_revocations_poll_failed hub={} error=\"{}\"", hubName, e.toString());
      return;
    }
    lastAnswerNanos = System.nanoTime();
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
        persist(entry);
      }
    }
    if (added > 0) {
      known = Map.copyOf(next);
      log.info("event=hub_revocations_updated hub={} new={} entries={}", hubName, added, next.size());
    }
  }

  private void persist(Entry entry) {
    if (cache == null) {
      return;
    }
    try {
      cache.revoke(entry.id(), entry.at(), entry.reason());
    } catch (CertificateStoreException e) {
      log.warn("event=hub_revocations_cache_unwritable file={} error=\"{}\" (kept in memory only from now on)",
          cache.file(), e.getMessage());
      cache = null;
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
