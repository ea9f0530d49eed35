package io.meshwire.hub.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.grpc.Status;
import io.meshwire.certs.RevocationList;
import io.meshwire.certs.Revocations;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EtcdRevocations}: the revocation list of a replicated hub, kept in etcd under {@code
 * revocations/<role>/<name>} (value: the instant certificates issued before are revoked, a tab,
 * the reason) and mirrored in memory on every replica from the replica's one watch, so {@link
 * #isRevoked} does no I/O. When a cluster's revocation arrives (from any replica), {@code
 * onClusterRevoked} runs on this replica: the hub ends that cluster's streams here too.
 *
 * <p>Thread-safety: the mirror is an immutable map behind a volatile field, replaced by the
 * watch's thread; {@link #revoke} may be called from any thread.
 */
public final class EtcdRevocations implements Revocations, EtcdMembership.KeyListener {

  public static final String PREFIX = "revocations/";
  private static final Logger log = LoggerFactory.getLogger(EtcdRevocations.class);

  private final String mesh;
  private volatile Map<SpiffeId, RevocationList.Entry> byId = Map.of();
  private volatile Consumer<String> onClusterRevoked = id -> { };
  private volatile EtcdMembership membership;

  public EtcdRevocations(String mesh) {
    this.mesh = mesh;
  }

  /** Connects the writer side once the membership (and its watch) is open. */
  public void bind(EtcdMembership membership, Consumer<String> onClusterRevoked) {
    this.membership = membership;
    this.onClusterRevoked = onClusterRevoked;
  }

  @Override
  public void revoke(SpiffeId id, Instant at, String reason) {
    EtcdMembership m = membership;
    ByteSequence key = ByteSequence.from(m.prefix() + keyOf(id), StandardCharsets.UTF_8);
    try {
      GetResponse current = m.call(m.client().getKVClient().get(key), "reading revocation of " + id.uri());
      if (!current.getKvs().isEmpty()) {
        RevocationList.Entry existing = parse(id, current.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
        if (existing != null && !at.isAfter(existing.at())) {
          return;
        }
      }
      String value = at + "\t" + (reason == null ? "" : reason);
      PutResponse put = m.call(m.client().getKVClient().put(key, ByteSequence.from(value, StandardCharsets.UTF_8)),
          "writing revocation of " + id.uri());
      // Visible to this replica's checks before the caller goes on.
      m.afterApplied(put.getHeader().getRevision()).get(10, TimeUnit.SECONDS);
      log.info("event=identity_revoked id={} before={} store=etcd", id, at);
    } catch (EtcdCalls.EtcdCallException e) {
      throw Status.UNAVAILABLE.withDescription("revocation not stored: " + m.unavailable(e).getMessage())
          .asRuntimeException();
    } catch (Exception e) {
      throw Status.UNAVAILABLE.withDescription("revocation of " + id.uri() + ": " + e.getMessage())
          .asRuntimeException();
    }
  }

  @Override
  public boolean isRevoked(X509Certificate cert) {
    return RevocationList.revokedBy(byId, cert);
  }

  @Override
  public boolean isRevoked(SpiffeId id, java.time.Instant notBefore) {
    return RevocationList.revokedBy(byId, id, notBefore);
  }

  @Override
  public boolean isRevoked(SpiffeId id) {
    return byId.containsKey(id);
  }

  @Override
  public List<RevocationList.Entry> entries() {
    return byId.values().stream().sorted(Comparator.comparing(e -> e.id().uri())).toList();
  }

  @Override
  public void loaded(Map<String, Stored> values, long revision) {
    Map<SpiffeId, RevocationList.Entry> next = new HashMap<>();
    values.forEach((key, stored) -> {
      SpiffeId id = idOf(key);
      RevocationList.Entry e = id == null ? null : parse(id, new String(stored.value(), StandardCharsets.UTF_8));
      if (e != null) {
        next.put(id, e);
      }
    });
    byId = Map.copyOf(next);
  }

  @Override
  public void changed(String key, byte[] value, long revision) {
    SpiffeId id = idOf(key);
    if (id == null) {
      return;
    }
    Map<SpiffeId, RevocationList.Entry> next = new HashMap<>(byId);
    RevocationList.Entry e = value == null ? null : parse(id, new String(value, StandardCharsets.UTF_8));
    if (e == null) {
      next.remove(id);
    } else {
      next.put(id, e);
    }
    byId = Map.copyOf(next);
    if (e != null && id.role() == Role.CLUSTER) {
      onClusterRevoked.accept(id.name());
    }
  }

  private static String keyOf(SpiffeId id) {
    return PREFIX + id.role().pathSegment() + "/" + id.name();
  }

  private SpiffeId idOf(String key) {
    String rest = key.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return null;
    }
    try {
      return new SpiffeId(mesh, Role.fromPathSegment(rest.substring(0, slash)), rest.substring(slash + 1));
    } catch (IllegalArgumentException e) {
      log.warn("ignoring malformed revocation key key=\"{}\"", key);
      return null;
    }
  }

  private static RevocationList.Entry parse(SpiffeId id, String value) {
    int tab = value.indexOf('\t');
    try {
      return new RevocationList.Entry(id, Instant.parse(tab < 0 ? value : value.substring(0, tab)),
          tab < 0 ? "" : value.substring(tab + 1));
    } catch (RuntimeException e) {
      log.warn("ignoring malformed revocation id={} value=\"{}\"", id, value.length() > 64 ? value.substring(0, 64) : value);
      return null;
    }
  }
}
