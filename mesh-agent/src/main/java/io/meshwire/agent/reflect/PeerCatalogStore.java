package io.meshwire.agent.reflect;

import io.meshwire.agent.peer.PeerCatalogMapper;
import io.meshwire.agent.state.FramedFile;
import io.meshwire.agent.wire.AgentProtoMapper;
import io.meshwire.certs.AtomicFiles;
import io.meshwire.proto.agent.v1.PeerCatalog;
import io.meshwire.proto.agent.v1.PeerCatalogs;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code PeerCatalogStore} keeps the last catalog received from each peer in one file of the
 * agent's state directory ({@value #FILE_NAME}), so that a restarted agent keeps importing from a
 * peer it cannot reach yet, and resumes each peer's WatchCatalog from the revision and catalog uid
 * it held instead of taking the whole catalog again.
 *
 * <p>The file is the {@code PeerCatalogs} message of {@code state.proto} (each catalog in the peer
 * channel's own {@code FullCatalog}, decoded by {@link PeerCatalogMapper} with its checks), framed
 * by {@link FramedFile} with magic {@code "MWPC"} and a CRC32C, written by {@link AtomicFiles}
 * (temporary file, fsync, rename, directory fsync) with mode 0600. On load every catalog must also
 * pass {@link CatalogLimits}, as it did when it was received. A file that fails any check is moved
 * aside (never applied, never deleted) and reported as {@link Loaded.Corrupt}; the agent then
 * starts as if there were none.
 *
 * <p>Size: the payload is at most {@link #MAX_BYTES} (the peer channel's largest message); a save
 * that would exceed it fails and leaves the previous file in place.
 *
 * <p>Thread-safety: {@link #save} calls are serialized by this object's lock; {@link #load} is
 * meant for start-up.
 */
final class PeerCatalogStore {

  /** The file's name in the state directory. */
  public static final String FILE_NAME = "peer-catalogs.bin";

  /** The largest payload written or read: what the peer channel accepts in one message. */
  public static final int MAX_BYTES = 64 * 1024 * 1024;

  private final Path file;
  private final CatalogLimits limits;
  private final InstantSource clock;
  private final FramedFile.Format format;

  public PeerCatalogStore(Path stateDir, CatalogLimits limits, InstantSource clock) {
    this(stateDir, limits, clock, MAX_BYTES);
  }

  /** With another payload limit (tests). */
  PeerCatalogStore(Path stateDir, CatalogLimits limits, InstantSource clock, int maxBytes) {
    this.file = stateDir.resolve(FILE_NAME);
    this.limits = limits;
    this.clock = clock;
    this.format = new FramedFile.Format("MWPC", (byte) 1, "meshwire peer catalog", maxBytes);
  }

  public Path path() {
    return file;
  }

  /** The outcome of {@link #load}. */
  public sealed interface Loaded {
    /** The stored catalogs by peer cluster. */
    record Found(Map<String, Catalog> catalogs, Instant writtenAt) implements Loaded {
      public Found {
        catalogs = Map.copyOf(catalogs);
      }
    }

    record Missing() implements Loaded {}

    /**
     * The file was unusable; it now lives at {@code movedTo}.
     *
     * @param reason a short code for metrics: one of {@link FramedFile.Unframed.Refused#reason}'s,
     *     {@code decode} or {@code limits}
     */
    record Corrupt(String reason, String problem, Path movedTo) implements Loaded {}
  }

  public Loaded load() throws IOException {
    // The caller logs a refused file, with what it does next.
    return switch (FramedFile.read(file, format, payload -> decode(PeerCatalogs.parseFrom(payload)), clock)) {
      case FramedFile.Read.Found<Loaded.Found> found -> found.value();
      case FramedFile.Read.Missing<Loaded.Found> missing -> new Loaded.Missing();
      case FramedFile.Read.MovedAside<Loaded.Found> aside -> new Loaded.Corrupt(aside.reason(), aside.problem(),
          aside.movedTo());
    };
  }

  private Loaded.Found decode(PeerCatalogs stored) throws FramedFile.Undecodable {
    Map<String, Catalog> out = new TreeMap<>();
    for (int i = 0; i < stored.getPeersCount(); i++) {
      PeerCatalog p = stored.getPeers(i);
      String where = "peers[" + i + "] (" + p.getClusterId() + ")";
      if (p.getClusterId().isEmpty()) {
        throw new FramedFile.Undecodable("decode", "peers[" + i + "].cluster_id: empty");
      }
      Catalog catalog;
      try {
        catalog = PeerCatalogMapper.fromFull(p.getRevision(), p.getCatalog());
      } catch (PeerCatalogMapper.InvalidCatalogException e) {
        throw new FramedFile.Undecodable("decode", where + ": " + e.getMessage());
      }
      List<String> problems = limits.problems(catalog);
      if (!problems.isEmpty()) {
        throw new FramedFile.Undecodable("limits", where + ": " + problems.size() + " problem(s), first: " + problems.get(0));
      }
      if (out.put(p.getClusterId(), catalog) != null) {
        throw new FramedFile.Undecodable("decode", where + ": cluster appears twice");
      }
    }
    return new Loaded.Found(out, AgentProtoMapper.instant(stored.getWrittenAt()));
  }

  /**
   * Replaces the file with {@code catalogs} (by peer cluster), durably: when this returns, a crash
   * leaves exactly these. On failure the previous file is untouched and no temporary file is left.
   *
   * @throws TooLarge when the catalogs exceed {@link #MAX_BYTES} (trying again cannot help)
   */
  public synchronized void save(Map<String, Catalog> catalogs) throws IOException {
    PeerCatalogs.Builder out = PeerCatalogs.newBuilder().setWrittenAt(AgentProtoMapper.timestamp(clock.instant()));
    new TreeMap<>(catalogs).forEach((peer, catalog) -> out.addPeers(PeerCatalog.newBuilder()
        .setClusterId(peer)
        .setRevision(catalog.revision())
        .setCatalog(PeerCatalogMapper.full(catalog).getFull())));
    byte[] framed;
    try {
      framed = FramedFile.frame(format, out.build().toByteArray());
    } catch (IllegalArgumentException tooLarge) {
      throw new TooLarge("peer catalogs of " + catalogs.size() + " peers: " + tooLarge.getMessage(), tooLarge);
    }
    AtomicFiles.write(file, framed, AtomicFiles.OWNER_ONLY);
  }

  /** The catalogs do not fit in one file; the same catalogs will never fit. */
  public static final class TooLarge extends IOException {
    TooLarge(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
