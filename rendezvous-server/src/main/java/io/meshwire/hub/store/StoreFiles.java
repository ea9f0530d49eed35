package io.meshwire.hub.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code StoreFiles}: names of the files in a store directory and the few POSIX durability steps
 * used on them. Stateless; thread-safe.
 */
final class StoreFiles {

  static final String MESH_UID = "mesh_uid";
  static final String LOCK = "lock";
  static final String TEMP_SUFFIX = ".tmp";

  private static final Pattern SEGMENT = Pattern.compile("log-(\\d{20})\\.seg");
  private static final Pattern SNAPSHOT = Pattern.compile("snapshot-(\\d{1,20})\\.snap");

  private StoreFiles() {}

  static String segmentName(long firstRevision) {
    return String.format("log-%020d.seg", firstRevision);
  }

  static String snapshotName(long revision) {
    return String.format("snapshot-%020d.snap", revision);
  }

  /** The first revision named by a segment file name, or -1 when it is not one. */
  static long segmentRevision(String fileName) {
    return revision(SEGMENT.matcher(fileName));
  }

  /** The revision named by a snapshot file name, or -1 when it is not one. */
  static long snapshotRevision(String fileName) {
    return revision(SNAPSHOT.matcher(fileName));
  }

  private static long revision(Matcher m) {
    if (!m.matches()) {
      return -1;
    }
    try {
      return Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1; // 20 digits above Long.MAX_VALUE: not one of ours
    }
  }

  /** Makes the directory's entries (created, renamed files) durable. */
  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * Replaces {@code target} atomically with {@code content}: writes a temp file beside it, fsyncs
   * it, renames it over the target and fsyncs the directory. A crash leaves the old file or the new
   * one (and perhaps a temp file that the next open deletes).
   */
  static void writeAtomically(Path target, ByteBuffer... content) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        writeFully(channel, content);
        channel.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed); // the next open deletes it
      }
      throw e;
    }
    fsyncDirectory(target.getParent());
  }

  static void writeFully(FileChannel channel, ByteBuffer... buffers) throws IOException {
    for (ByteBuffer buffer : buffers) {
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    }
  }
}
