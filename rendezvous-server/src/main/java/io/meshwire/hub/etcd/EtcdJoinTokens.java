package io.meshwire.hub.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import io.meshwire.certs.CreatedToken;
import io.meshwire.certs.JoinTokens;
import io.meshwire.certs.TokenInfo;
import io.meshwire.certs.TokenRejectedException;
import io.meshwire.certs.TokenStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NoSuchElementException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code EtcdJoinTokens}: join tokens of a replicated hub, in etcd under {@code tokens/<sha256>}
 * (value: cluster, created, expires, state, tab-separated; never the token). Redeeming marks the
 * token USED in a transaction that succeeds only if the token is unchanged since it was checked,
 * so of two replicas redeeming one token at once exactly one wins; the other sees USED. The
 * token rules are {@link JoinTokens}'s. Thread-safe (no state of its own).
 */
public final class EtcdJoinTokens implements TokenStore {

  private static final Logger log = LoggerFactory.getLogger(EtcdJoinTokens.class);
  private static final String PREFIX = "tokens/";

  private final EtcdMembership etcd;
  private final InstantSource clock;

  public EtcdJoinTokens(EtcdMembership etcd, InstantSource clock) {
    this.etcd = etcd;
    this.clock = clock;
  }

  private record Stored(String hash, KeyValue kv, String clusterId, Instant createdAt, Instant expiresAt,
      TokenInfo.State state) {
    String tokenId() {
      return hash.substring(0, 16);
    }

    TokenInfo info(Instant now) {
      return JoinTokens.infoAt(tokenId(), clusterId, createdAt, expiresAt, state, now);
    }

    String encode(TokenInfo.State newState) {
      return clusterId + "\t" + createdAt + "\t" + expiresAt + "\t" + newState;
    }
  }

  @Override
  public CreatedToken create(String clusterId, Duration ttl) {
    JoinTokens.checkRequest(clusterId, ttl);
    String token = JoinTokens.newToken();
    String hash;
    try {
      hash = JoinTokens.hashOf(token);
    } catch (TokenRejectedException e) {
      throw new IllegalStateException("a new token is malformed", e);
    }
    Instant now = clock.instant();
    Stored stored = new Stored(hash, null, clusterId, now, now.plus(ttl), TokenInfo.State.ACTIVE);
    ByteSequence key = key(hash);
    TxnResponse txn = call(etcd.client().getKVClient().txn()
        .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(Op.put(key, bytes(stored.encode(TokenInfo.State.ACTIVE)), PutOption.DEFAULT))
        .commit(), "creating a join token");
    if (!txn.isSucceeded()) {
      throw new IllegalStateException("join token hash collision");
    }
    log.info("event=join_token_created token_id={} cluster={} expires={} store=etcd", stored.tokenId(), clusterId,
        stored.expiresAt());
    return new CreatedToken(token, stored.info(now));
  }

  @Override
  public List<TokenInfo> list() {
    GetResponse all = call(etcd.client().getKVClient().get(bytes(etcd.prefix() + PREFIX),
        GetOption.builder().isPrefix(true).build()), "listing join tokens");
    Instant now = clock.instant();
    List<Stored> stored = new ArrayList<>();
    for (KeyValue kv : all.getKvs()) {
      String k = kv.getKey().toString(StandardCharsets.UTF_8);
      Stored s = parse(k.substring(k.lastIndexOf('/') + 1), kv);
      if (s != null) {
        stored.add(s);
      }
    }
    return stored.stream().sorted(Comparator.comparing(Stored::createdAt)).map(s -> s.info(now)).toList();
  }

  @Override
  public void revoke(String tokenId) {
    for (int attempt = 0; attempt < 8; attempt++) {
      GetResponse all = call(etcd.client().getKVClient().get(bytes(etcd.prefix() + PREFIX + tokenId),
          GetOption.builder().isPrefix(true).build()), "reading join token " + tokenId);
      if (all.getKvs().isEmpty()) {
        throw new NoSuchElementException("join token " + tokenId + ": no such token");
      }
      KeyValue kv = all.getKvs().get(0);
      String k = kv.getKey().toString(StandardCharsets.UTF_8);
      Stored s = parse(k.substring(k.lastIndexOf('/') + 1), kv);
      if (s == null || s.state() != TokenInfo.State.ACTIVE) {
        return;
      }
      if (swap(s, TokenInfo.State.REVOKED)) {
        log.info("event=join_token_revoked token_id={} cluster={} store=etcd", tokenId, s.clusterId());
        return;
      }
    }
    throw Status.UNAVAILABLE.withDescription("join token " + tokenId + ": changed concurrently, retry")
        .asRuntimeException();
  }

  @Override
  public TokenInfo check(String token) throws TokenRejectedException {
    Stored s = find(token);
    return s.info(clock.instant());
  }

  @Override
  public TokenInfo redeem(String token, String clusterId) throws TokenRejectedException {
    Stored s = find(token);
    if (!s.clusterId().equals(clusterId)) {
      throw JoinTokens.clusterMismatch(s.tokenId(), s.clusterId(), clusterId);
    }
    if (!swap(s, TokenInfo.State.USED)) {
      // Someone redeemed or revoked it between our read and our transaction: say what it is now.
      find(token);
      throw new TokenRejectedException(TokenRejectedException.Reason.USED,
          "join token " + s.tokenId() + " was already used");
    }
    log.info("event=join_token_redeemed token_id={} cluster={} store=etcd", s.tokenId(), clusterId);
    return new Stored(s.hash(), s.kv(), s.clusterId(), s.createdAt(), s.expiresAt(), TokenInfo.State.USED)
        .info(clock.instant());
  }

  private Stored find(String token) throws TokenRejectedException {
    String hash = JoinTokens.hashOf(token);
    GetResponse r = call(etcd.client().getKVClient().get(key(hash)), "reading a join token");
    Stored s = r.getKvs().isEmpty() ? null : parse(hash, r.getKvs().get(0));
    if (s == null) {
      throw new TokenRejectedException(TokenRejectedException.Reason.UNKNOWN,
          "join token " + hash.substring(0, 16) + " is unknown to this hub");
    }
    JoinTokens.requireUsable(s.tokenId(), s.state(), s.expiresAt(), clock.instant());
    return s;
  }

  /** Moves {@code s} to {@code state} if nobody changed it since it was read. */
  private boolean swap(Stored s, TokenInfo.State state) {
    ByteSequence key = key(s.hash());
    return call(etcd.client().getKVClient().txn()
        .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(s.kv().getModRevision())))
        .Then(Op.put(key, bytes(s.encode(state)), PutOption.DEFAULT))
        .commit(), "updating join token " + s.tokenId()).isSucceeded();
  }

  private static Stored parse(String hash, KeyValue kv) {
    String[] f = kv.getValue().toString(StandardCharsets.UTF_8).split("\t", -1);
    try {
      return new Stored(hash, kv, f[0], Instant.parse(f[1]), Instant.parse(f[2]), TokenInfo.State.valueOf(f[3]));
    } catch (RuntimeException e) {
      log.warn("ignoring malformed join token entry token_id={}", hash.length() >= 16 ? hash.substring(0, 16) : hash);
      return null;
    }
  }

  private <T extends io.etcd.jetcd.Response> T call(java.util.concurrent.CompletableFuture<T> f, String what) {
    try {
      return etcd.call(f, what);
    } catch (EtcdCalls.EtcdCallException e) {
      throw Status.UNAVAILABLE.withDescription(etcd.unavailable(e).getMessage()).asRuntimeException();
    }
  }

  private ByteSequence key(String hash) {
    return bytes(etcd.prefix() + PREFIX + hash);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
