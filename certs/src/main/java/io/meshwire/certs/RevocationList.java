package io.meshwire.certs;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RevocationList} is the hub's persistent record of revoked identities. Revoking {@code id}
 * at {@code at} revokes every certificate of {@code id} issued before {@code at}; certificates
 * issued later (a re-enrollment with a new join token) are valid again.
 *
 * <p>"Issued" is {@code notBefore + }{@link MeshCa#BACKDATE}: {@link MeshCa} backdates notBefore by
 * that much and keeps whole seconds, so this is never later than the real issuance time and a
 * certificate issued before {@code at} is always caught. A certificate issued within the same
 * second after {@code at} is also reported revoked (fails closed); re-enroll a second later.
 *
 * <p>File: one line per identity ({@code <spiffe id> TAB <at> TAB <percent-encoded reason>}),
 * mode 0600, rewritten atomically with fsync before a revocation takes effect. Thread-safe:
 * writers serialize on {@code this}; readers ({@link #isRevoked}, called on every RPC) read an
 * immutable map through a volatile field without locking.
 */
public final class RevocationList implements Revocations {

  /** One revoked identity: its certificates issued before {@code at} are revoked. */
  public record Entry(SpiffeId id, Instant at, String reason) {
    /** Checks for nulls; a null reason becomes empty. */
    public Entry {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(at, "at");
      reason = reason == null ? "" : reason;
    }
  }

  private static final Logger log = LoggerFactory.getLogger(RevocationList.class);
  private static final String HEADER = "# meshwire revocation list v1: <spiffe id>\t<revoked before>\t<reason, percent-encoded>";

  private final Path file;
  /** Immutable; replaced under {@code this} after the file is written. */
  private volatile Map<SpiffeId, Entry> byId;

  private RevocationList(Path file, Map<SpiffeId, Entry> byId) {
    this.file = file;
    this.byId = Map.copyOf(byId);
  }

  /**
   * Opens the list kept in {@code file}; a missing file is an empty list (created on the first
   * revocation).
   *
   * @throws CertificateStoreException naming the file and line if it cannot be read or parsed
   */
  public static RevocationList open(Path file) {
    Map<SpiffeId, Entry> entries = new HashMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return new RevocationList(file, entries);
    } catch (IOException e) {
      throw new CertificateStoreException(file, "cannot read: " + Pem.oneLine(e), e);
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length != 3) {
        throw new CertificateStoreException(file, "line " + (i + 1) + ": expected 3 tab-separated fields, found " + f.length);
      }
      try {
        Entry entry = new Entry(SpiffeId.parse(f[0]), Instant.parse(f[1]), URLDecoder.decode(f[2], StandardCharsets.UTF_8));
        entries.merge(entry.id(), entry, RevocationList::later);
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw new CertificateStoreException(file, "line " + (i + 1) + ": " + Pem.oneLine(e), e);
      }
    }
    return new RevocationList(file, entries);
  }

  /**
   * Revokes every certificate of {@code id} issued before {@code at} (see the class comment), so a
   * later re-enrollment can be allowed. Idempotent: revoking again with an earlier or equal {@code at} changes
   * nothing; a later {@code at} moves the cut-off (and replaces the reason). Returns once the file
   * is durable.
   *
   * @throws CertificateStoreException if the file cannot be written (the revocation then has not
   *     taken effect)
   */
  @Override
  public synchronized void revoke(SpiffeId id, Instant at, String reason) {
    revokeAll(List.of(new Entry(id, at, reason)));
  }

  /**
   * {@link #revoke} for several entries with one durable write: the entries that add an identity or
   * move its cut-off later are applied, the rest change nothing. Returns how many were applied.
   *
   * @throws CertificateStoreException if the file cannot be written (none of them has taken effect)
   */
  public synchronized int revokeAll(Collection<Entry> entries) {
    Map<SpiffeId, Entry> next = new HashMap<>(byId);
    List<Entry> applied = new ArrayList<>();
    for (Entry entry : entries) {
      Entry existing = next.get(entry.id());
      if (existing == null || entry.at().isAfter(existing.at())) {
        next.put(entry.id(), entry);
        applied.add(entry);
      }
    }
    if (applied.isEmpty()) {
      return 0;
    }
    persist(next);
    byId = Map.copyOf(next);
    for (Entry entry : applied) {
      log.info("event=identity_revoked id={} before={} reason=\"{}\"", entry.id(), entry.at(),
          entry.reason().replace('"', '\''));
    }
    return applied.size();
  }

  /**
   * Returns whether {@code cert} is revoked: its SPIFFE ID is revoked and it was issued (notBefore
   * + {@link MeshCa#BACKDATE}) before the revocation. A certificate without a SPIFFE ID is not in
   * this list (the verifier rejects it anyway).
   */
  @Override
  public boolean isRevoked(X509Certificate cert) {
    return revokedBy(byId, cert);
  }

  @Override
  public boolean isRevoked(SpiffeId id, Instant notBefore) {
    return revokedBy(byId, id, notBefore);
  }

  /**
   * Whether {@code entries} revoke {@code cert}: its SPIFFE ID is listed and it was issued
   * (notBefore + {@link MeshCa#BACKDATE}) before the revocation. The one rule for every store.
   */
  public static boolean revokedBy(Map<SpiffeId, Entry> entries, X509Certificate cert) {
    if (entries.isEmpty()) {
      return false;
    }
    SpiffeId id;
    try {
      id = SpiffeId.of(cert);
    } catch (CertificateRejectedException e) {
      return false;
    }
    return revokedBy(entries, id, cert.getNotBefore().toInstant());
  }

  /** {@link #revokedBy(Map, X509Certificate)} for a certificate of {@code id} valid from {@code notBefore}. */
  public static boolean revokedBy(Map<SpiffeId, Entry> entries, SpiffeId id, Instant notBefore) {
    Entry entry = entries.get(id);
    return entry != null && notBefore.plus(MeshCa.BACKDATE).isBefore(entry.at());
  }

  /** Returns whether any revocation is recorded for {@code id}. */
  @Override
  public boolean isRevoked(SpiffeId id) {
    return byId.containsKey(id);
  }

  /** Returns all entries, sorted by SPIFFE ID. */
  @Override
  public List<Entry> entries() {
    return byId.values().stream().sorted(Comparator.comparing(e -> e.id().uri())).toList();
  }

  /** Returns the file this list is kept in. */
  public Path file() {
    return file;
  }

  private void persist(Map<SpiffeId, Entry> entries) {
    StringBuilder out = new StringBuilder(HEADER).append('\n');
    entries.values().stream()
        .sorted(Comparator.comparing(e -> e.id().uri()))
        .forEach(e -> out.append(e.id().uri()).append('\t').append(e.at()).append('\t')
            .append(URLEncoder.encode(e.reason(), StandardCharsets.UTF_8)).append('\n'));
    try {
      AtomicFiles.write(file, out.toString().getBytes(StandardCharsets.UTF_8), AtomicFiles.OWNER_ONLY);
    } catch (IOException e) {
      throw new CertificateStoreException(file, "cannot write: " + Pem.oneLine(e), e);
    }
  }

  private static Entry later(Entry a, Entry b) {
    return b.at().isAfter(a.at()) ? b : a;
  }
}
