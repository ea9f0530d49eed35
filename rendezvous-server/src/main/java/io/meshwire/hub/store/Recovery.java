package io.meshwire.hub.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Recovery}: turns a store directory into a {@link Recovered} and a log ready for appends.
 *
 * <p>It checks everything before changing anything, then makes the only repairs it is sure of:
 * cutting a torn tail off the last segment, deleting segments and snapshots that the latest
 * snapshot made obsolete, deleting leftover temp files. Anything else that is wrong (a bad record
 * followed by valid data, a bad record in an earlier segment, a revision gap, a damaged snapshot)
 * is a {@link StoreException} naming the file and offset. Not thread-safe: runs once, on the
 * opening thread, while the caller holds the directory lock.
 */
final class Recovery {

  /**
   * @param segments the segments kept, by first revision; the last one receives the next appends
   * @param nextRevision the revision the next append must carry
   * @param snapshotFile the latest snapshot's file, or null
   */
  record Outcome(Recovered recovered, NavigableMap<Long, Path> segments, long nextRevision, Path snapshotFile) {}

  private record TornTail(Path file, long offset, long bytes, String reason) {}

  private static final Logger log = LoggerFactory.getLogger(Recovery.class);
  private static final Pattern UUID_TEXT =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private Recovery() {}

  static Outcome run(Path dir) throws StoreException {
    TreeMap<Long, Path> segments = new TreeMap<>();
    TreeMap<Long, Path> snapshots = new TreeMap<>();
    List<Path> temps = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (!Files.isRegularFile(file)) {
          continue;
        }
        if (name.endsWith(StoreFiles.TEMP_SUFFIX)) {
          temps.add(file);
        } else if (StoreFiles.segmentRevision(name) > 0) {
          segments.put(StoreFiles.segmentRevision(name), file);
        } else if (StoreFiles.snapshotRevision(name) > 0) {
          snapshots.put(StoreFiles.snapshotRevision(name), file);
        }
      }
    } catch (IOException e) {
      throw new StoreException(dir, "cannot list the store directory: " + e, e);
    }

    String meshUid = meshUid(dir, !segments.isEmpty() || !snapshots.isEmpty());

    Snapshot snapshot = null;
    Path snapshotFile = null;
    List<Path> obsolete = new ArrayList<>();
    if (!snapshots.isEmpty()) {
      // Only the latest counts: an older one is left over from a crash just after the latest was
      // made durable. A damaged latest one is an error, not a reason to fall back.
      Map.Entry<Long, Path> latest = snapshots.lastEntry();
      snapshot = SnapshotFile.read(latest.getValue(), latest.getKey());
      snapshotFile = latest.getValue();
      obsolete.addAll(snapshots.headMap(latest.getKey()).values());
    }
    long snapshotRevision = snapshot == null ? 0 : snapshot.revision();

    // A segment ends just before the next one starts: those ending at or below the snapshot are
    // obsolete (a crash interrupted the truncation after a snapshot) and need no scan.
    List<Map.Entry<Long, Path>> ordered = new ArrayList<>(segments.entrySet());
    int firstKept = 0;
    while (firstKept < ordered.size() - 1 && ordered.get(firstKept + 1).getKey() - 1 <= snapshotRevision) {
      obsolete.add(ordered.get(firstKept).getValue());
      firstKept++;
    }

    List<Entry> entries = new ArrayList<>();
    TreeMap<Long, Path> kept = new TreeMap<>();
    TornTail torn = null;
    long lastLogRevision = snapshotRevision;
    for (int i = firstKept; i < ordered.size(); i++) {
      long first = ordered.get(i).getKey();
      Path file = ordered.get(i).getValue();
      boolean last = i == ordered.size() - 1;
      if (i == firstKept) {
        if (snapshot == null && first != 1) {
          throw new StoreException(file, "the first log segment starts at revision " + first
              + " and there is no snapshot: revisions 1.." + (first - 1) + " are missing");
        }
        if (first > snapshotRevision + 1) {
          throw new StoreException(file, "the log segment starts at revision " + first + " but snapshot "
              + snapshotFile.getFileName() + " ends at revision " + snapshotRevision + ": revisions "
              + (snapshotRevision + 1) + ".." + (first - 1) + " are missing");
        }
      } else if (first != lastLogRevision + 1) {
        throw new StoreException(file, "the log segment starts at revision " + first
            + " but the previous segment ends at revision " + lastLogRevision);
      }
      SegmentScanner.Result result = SegmentScanner.scan(file, first, snapshotRevision, entries::add, last);
      SegmentScanner.BadRecord bad = result.bad();
      if (bad != null) {
        if (!last) {
          throw new StoreException(file, bad.offset(), "corrupt record (" + bad.reason()
              + ") in a segment that is not the last, so not a torn write");
        }
        if (bad.validRecordAfter() >= 0) {
          throw new StoreException(file, bad.offset(), "corrupt record (" + bad.reason()
              + ") followed by a valid record at offset " + bad.validRecordAfter() + ", so not a torn write");
        }
        torn = new TornTail(file, bad.offset(), result.fileSize() - bad.offset(), bad.reason());
      }
      if (!last && result.lastRevision() < first) {
        throw new StoreException(file, 0, "empty log segment that is not the last one");
      }
      lastLogRevision = result.lastRevision();
      kept.put(first, file);
    }

    if (!kept.isEmpty() && lastLogRevision < snapshotRevision) {
      // Every record left is covered by the snapshot; appends restart in a fresh segment.
      log.warn("store log ends below snapshot, dropping segments dir={} last_log_revision={} snapshot_revision={}",
          dir, lastLogRevision, snapshotRevision);
      obsolete.addAll(kept.values());
      kept.clear();
      entries.clear();
    }
    long lastRevision = Math.max(lastLogRevision, snapshotRevision);

    // Checks are done: from here on, repairs.
    if (torn != null) {
      truncate(torn);
      log.warn("store torn tail dropped file={} offset={} bytes={} reason=\"{}\"",
          torn.file(), torn.offset(), torn.bytes(), torn.reason());
    }
    for (Path file : obsolete) {
      deleteQuietly(file, "obsolete");
    }
    for (Path file : temps) {
      deleteQuietly(file, "temp");
    }

    String detail = (torn == null ? "clean" : "torn tail dropped: file=" + torn.file().getFileName()
        + " offset=" + torn.offset() + " bytes=" + torn.bytes() + " reason=" + torn.reason())
        + "; snapshot=" + (snapshot == null ? "none" : snapshotRevision)
        + " segments=" + kept.size()
        + " entries=" + (entries.isEmpty() ? "none" : entries.get(0).revision() + ".." + lastRevision);
    RecoveryReport report = new RecoveryReport(entries.size(), torn == null ? 0 : torn.bytes(), detail);
    return new Outcome(new Recovered(meshUid, snapshot, entries, report), kept, lastRevision + 1, snapshotFile);
  }

  private static String meshUid(Path dir, boolean hasData) throws StoreException {
    Path file = dir.resolve(StoreFiles.MESH_UID);
    if (Files.exists(file)) {
      String text;
      try {
        text = Files.readString(file, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new StoreException(file, "cannot read the mesh UID: " + e, e);
      }
      if (!UUID_TEXT.matcher(text).matches()) {
        throw new StoreException(file, 0, "not a mesh UID (a lower-case UUID): \"" + abbreviate(text) + "\"");
      }
      return text;
    }
    if (hasData) {
      // Minting a new UID for an existing log would tell every agent this is another mesh.
      throw new StoreException(file, "missing while the directory holds log segments or snapshots;"
          + " refusing to create a new mesh UID for existing data");
    }
    String uid = UUID.randomUUID().toString();
    try {
      StoreFiles.writeAtomically(file, ByteBuffer.wrap((uid + "\n").getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new StoreException(file, "cannot write the mesh UID: " + e, e);
    }
    log.info("store created mesh UID dir={} mesh_uid={}", dir, uid);
    return uid;
  }

  private static void truncate(TornTail torn) throws StoreException {
    try (FileChannel channel = FileChannel.open(torn.file(), StandardOpenOption.WRITE)) {
      channel.truncate(torn.offset());
      // Durable before any new record lands there: stale bytes must not reappear after a crash.
      channel.force(true);
    } catch (IOException e) {
      throw new StoreException(torn.file(), torn.offset(), "cannot truncate the torn tail: " + e, e);
    }
  }

  private static void deleteQuietly(Path file, String what) {
    try {
      Files.deleteIfExists(file);
      log.debug("store deleted {} file={}", what, file);
    } catch (IOException e) {
      // Harmless: the next open finds it obsolete again.
      log.warn("store cannot delete {} file={} error=\"{}\"", what, file, e.toString());
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 60 ? text : text.substring(0, 60) + "...";
  }
}
