package io.meshwire.certs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code JoinTokens} is the hub's store of one-time join tokens, each bound to a cluster ID with a
 * time to live. A token is {@code mwjt_} followed by 32 random bytes in base64url (no padding); only
 * its SHA-256 is kept, so the file never lets anyone enroll.
 *
 * <p>Enrollment calls {@link #check} first (read-only, so a bad CSR does not burn the token), then
 * {@link #redeem}, which marks the token used and has written that to disk before it returns.
 *
 * <p>File: one line per token ({@code <sha256 hex> TAB <cluster> TAB <created> TAB <expires> TAB
 * <ACTIVE|USED|REVOKED>}), mode 0600, rewritten atomically with fsync on every change. Thread-safe:
 * every method synchronizes on {@code this}, which guards the map; a change is applied in memory
 * only after the file is written.
 */
public final class JoinTokens implements TokenStore {

  /** Shortest allowed time to live. */
  public static final Duration MIN_TTL = Duration.ofMinutes(1);
  /** Longest allowed time to live. */
  public static final Duration MAX_TTL = Duration.ofDays(7);
  /** How long a token stays listed after it expires; older entries are dropped on the next change. */
  public static final Duration RETENTION = Duration.ofDays(30);
  /** Every token starts with this. */
  public static final String PREFIX = "mwjt_";

  private static final Logger log = LoggerFactory.getLogger(JoinTokens.class);
  private static final String HEADER =
      "# meshwire join tokens v1 (SHA-256 only): <sha256>\t<cluster>\t<created>\t<expires>\t<state>";
  private static final Pattern TOKEN = Pattern.compile(Pattern.quote(PREFIX) + "[A-Za-z0-9_-]{43}");
  private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A stored token; {@code state} is never EXPIRED here. */
  private record Stored(String hash, String clusterId, Instant createdAt, Instant expiresAt, TokenInfo.State state) {
    String tokenId() {
      return hash.substring(0, 16);
    }

    Stored with(TokenInfo.State newState) {
      return new Stored(hash, clusterId, createdAt, expiresAt, newState);
    }
  }

  private final Path file;
  private final InstantSource clock;
  /** Guarded by {@code this}; keyed by hash, in creation order. */
  private final Map<String, Stored> byHash;

  private JoinTokens(Path file, InstantSource clock, Map<String, Stored> byHash) {
    this.file = file;
    this.clock = clock;
    this.byHash = byHash;
  }

  /**
   * Opens the store kept in {@code file}; a missing file is an empty store (created on the first
   * change).
   *
   * @throws CertificateStoreException naming the file and line if it cannot be read or parsed
   */
  public static JoinTokens open(Path file, InstantSource clock) {
    Objects.requireNonNull(clock, "clock");
    Map<String, Stored> tokens = new LinkedHashMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return new JoinTokens(file, clock, tokens);
    } catch (IOException e) {
      throw new CertificateStoreException(file, "cannot read: " + Pem.oneLine(e), e);
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      String where = "line " + (i + 1) + ": ";
      if (f.length != 5) {
        throw new CertificateStoreException(file, where + "expected 5 tab-separated fields, found " + f.length);
      }
      if (!HASH.matcher(f[0]).matches()) {
        throw new CertificateStoreException(file, where + "hash must be 64 lower-case hex characters");
      }
      try {
        TokenInfo.State state = TokenInfo.State.valueOf(f[4]);
        if (state == TokenInfo.State.EXPIRED) {
          throw new IllegalArgumentException("state EXPIRED is derived, not stored");
        }
        tokens.put(f[0], new Stored(f[0], SpiffeId.checkName(f[1]), Instant.parse(f[2]), Instant.parse(f[3]), state));
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw new CertificateStoreException(file, where + Pem.oneLine(e), e);
      }
    }
    return new JoinTokens(file, clock, tokens);
  }

  /**
   * Creates a token for {@code clusterId} that expires after {@code ttl}. The returned token is
   * the only copy of the secret.
   *
   * @throws IllegalArgumentException if {@code clusterId} is not a DNS label or {@code ttl} is not
   *     between 1 minute and 7 days
   * @throws CertificateStoreException if the file cannot be written (no token is created)
   */
  @Override
  public synchronized CreatedToken create(String clusterId, Duration ttl) {
    checkRequest(clusterId, ttl);
    String token = newToken();
    Instant now = clock.instant();
    Stored stored = new Stored(sha256Hex(token), clusterId, now, now.plus(ttl), TokenInfo.State.ACTIVE);
    Map<String, Stored> next = new LinkedHashMap<>(byHash);
    next.put(stored.hash(), stored);
    commit(next);
    log.info("event=join_token_created token_id={} cluster={} expires={}", stored.tokenId(), clusterId, stored.expiresAt());
    return new CreatedToken(token, info(stored, now));
  }

  /** Returns every token, oldest first, with its state as of now. */
  @Override
  public synchronized List<TokenInfo> list() {
    Instant now = clock.instant();
    return byHash.values().stream()
        .sorted(Comparator.comparing(Stored::createdAt))
        .map(s -> info(s, now))
        .toList();
  }

  /**
   * Revokes the token with {@code tokenId} (from {@link TokenInfo#tokenId()}). Revoking a token
   * that is already revoked or used changes nothing.
   *
   * @throws NoSuchElementException if no token has that ID
   * @throws CertificateStoreException if the file cannot be written (the token stays as it was)
   */
  @Override
  public synchronized void revoke(String tokenId) {
    Stored stored = byHash.values().stream()
        .filter(s -> s.tokenId().equals(tokenId))
        .findFirst()
        .orElseThrow(() -> new NoSuchElementException("join token " + tokenId + ": no such token"));
    if (stored.state() != TokenInfo.State.ACTIVE) {
      return;
    }
    Map<String, Stored> next = new LinkedHashMap<>(byHash);
    next.put(stored.hash(), stored.with(TokenInfo.State.REVOKED));
    commit(next);
    log.info("event=join_token_revoked token_id={} cluster={}", tokenId, stored.clusterId());
  }

  /**
   * Checks a token without using it (so enrollment can validate the CSR first).
   *
   * @return the token's info; its state is {@code ACTIVE}
   * @throws TokenRejectedException {@code MALFORMED}, {@code UNKNOWN}, {@code REVOKED}, {@code USED}
   *     or {@code EXPIRED}, in that order of precedence
   */
  @Override
  public synchronized TokenInfo check(String token) throws TokenRejectedException {
    Stored stored = find(token);
    return info(stored, clock.instant());
  }

  /**
   * Atomically checks and marks used (persisted before returning); bound cluster must equal
   * {@code clusterId}. A rejected token is left as it was; in particular a {@code
   * CLUSTER_MISMATCH} does not burn it.
   *
   * @throws TokenRejectedException as {@link #check}, or {@code CLUSTER_MISMATCH}
   * @throws CertificateStoreException if the file cannot be written (the token stays active)
   */
  @Override
  public synchronized TokenInfo redeem(String token, String clusterId) throws TokenRejectedException {
    Stored stored = find(token);
    Instant now = clock.instant();
    info(stored, now); // throws unless active
    if (!stored.clusterId().equals(clusterId)) {
      throw clusterMismatch(stored.tokenId(), stored.clusterId(), clusterId);
    }
    Stored used = stored.with(TokenInfo.State.USED);
    Map<String, Stored> next = new LinkedHashMap<>(byHash);
    next.put(used.hash(), used);
    commit(next);
    log.info("event=join_token_redeemed token_id={} cluster={}", used.tokenId(), clusterId);
    return info(used, now);
  }

  /** Returns the file this store is kept in. */
  public Path file() {
    return file;
  }

  /** Returns the stored token, or throws the reason it cannot be used now. Guarded by this. */
  private Stored find(String token) throws TokenRejectedException {
    String hash = hashOf(token);
    Stored stored = byHash.get(hash);
    if (stored == null) {
      throw new TokenRejectedException(
          TokenRejectedException.Reason.UNKNOWN, "join token " + hash.substring(0, 16) + " is unknown to this hub");
    }
    requireUsable(stored.tokenId(), stored.state(), stored.expiresAt(), clock.instant());
    return stored;
  }

  private static TokenInfo info(Stored s, Instant now) {
    return infoAt(s.tokenId(), s.clusterId(), s.createdAt(), s.expiresAt(), s.state(), now);
  }

  // ---- the token rules, shared by every TokenStore ----

  /**
   * Checks a create request.
   *
   * @throws IllegalArgumentException if {@code clusterId} is not a DNS label or {@code ttl} is not
   *     between 1 minute and 7 days
   */
  public static void checkRequest(String clusterId, Duration ttl) {
    try {
      SpiffeId.checkName(clusterId);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cluster ID: " + e.getMessage(), e);
    }
    if (ttl == null || ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("ttl " + ttl + ": must be between 1 minute and 7 days");
    }
  }

  /** A new secret token: {@code mwjt_} and 32 random bytes in base64url. */
  public static String newToken() {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /**
   * The SHA-256 (hex) under which {@code token} is stored; its first 16 characters are the token ID.
   *
   * @throws TokenRejectedException MALFORMED
   */
  public static String hashOf(String token) throws TokenRejectedException {
    if (token == null || !TOKEN.matcher(token).matches()) {
      throw new TokenRejectedException(
          TokenRejectedException.Reason.MALFORMED, "join token is malformed: expected " + PREFIX + "<43 base64url characters>");
    }
    return sha256Hex(token);
  }

  /** The info of a stored token as of {@code now} ({@code EXPIRED} derived from the clock). */
  public static TokenInfo infoAt(String tokenId, String clusterId, Instant createdAt, Instant expiresAt,
      TokenInfo.State stored, Instant now) {
    TokenInfo.State state = stored == TokenInfo.State.ACTIVE && !now.isBefore(expiresAt)
        ? TokenInfo.State.EXPIRED
        : stored;
    return new TokenInfo(tokenId, clusterId, createdAt, expiresAt, state);
  }

  /**
   * Throws why a stored token cannot be used at {@code now}: REVOKED, USED, EXPIRED in that order.
   */
  public static void requireUsable(String tokenId, TokenInfo.State stored, Instant expiresAt, Instant now)
      throws TokenRejectedException {
    switch (stored) {
      case REVOKED -> throw new TokenRejectedException(
          TokenRejectedException.Reason.REVOKED, "join token " + tokenId + " was revoked");
      case USED -> throw new TokenRejectedException(
          TokenRejectedException.Reason.USED, "join token " + tokenId + " was already used");
      default -> {
        if (!now.isBefore(expiresAt)) {
          throw new TokenRejectedException(
              TokenRejectedException.Reason.EXPIRED, "join token " + tokenId + " expired at " + expiresAt);
        }
      }
    }
  }

  /** The error for a token redeemed for another cluster than it is bound to. */
  public static TokenRejectedException clusterMismatch(String tokenId, String boundTo, String clusterId) {
    return new TokenRejectedException(TokenRejectedException.Reason.CLUSTER_MISMATCH,
        "join token " + tokenId + " is for cluster \"" + boundTo + "\", not \"" + clusterId + "\"");
  }

  /** Writes {@code next} to the file, then makes it the current state. Guarded by this. */
  private void commit(Map<String, Stored> next) {
    Instant cutoff = clock.instant().minus(RETENTION);
    next.values().removeIf(s -> s.expiresAt().isBefore(cutoff));
    StringBuilder out = new StringBuilder(HEADER).append('\n');
    for (Stored s : next.values()) {
      out.append(s.hash()).append('\t').append(s.clusterId()).append('\t').append(s.createdAt()).append('\t')
          .append(s.expiresAt()).append('\t').append(s.state()).append('\n');
    }
    try {
      AtomicFiles.write(file, out.toString().getBytes(StandardCharsets.UTF_8), AtomicFiles.OWNER_ONLY);
    } catch (IOException e) {
      throw new CertificateStoreException(file, "cannot write: " + Pem.oneLine(e), e);
    }
    byHash.clear();
    byHash.putAll(next);
  }

  private static String sha256Hex(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required", e);
    }
  }
}
