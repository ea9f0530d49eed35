package io.meshwire.certs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * {@code AtomicFiles} writes small files so that a reader, or the file system after a crash, sees
 * either the old content or the new one, never a mix: the bytes go to a temporary file in the same
 * directory with its final permissions, which is fsync'd, then published by rename (replace) or
 * hard link (create only), and the directory is fsync'd.
 *
 * <p>Missing parent directories are created with mode 0700. Permissions are set explicitly, so
 * the umask does not change them. Thread-safe: it keeps no state; concurrent writers of the same
 * file each publish a complete file and the last rename wins.
 */
public final class AtomicFiles {

  /** {@code rw-------}: private keys and stores of secrets' hashes. */
  public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  /** {@code rw-r--r--}: certificates. */
  public static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");

  private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFiles() {}

  /** Writes {@code content} to {@code file} with {@code permissions}, replacing any existing file. */
  public static void write(Path file, byte[] content, Set<PosixFilePermission> permissions)
      throws IOException {
    Path tmp = writeTemp(file, content, permissions);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    syncDirectory(file);
  }

  /**
   * Replaces several files in one directory as one set: after a crash at any point, a reader that
   * goes through {@link #finishInterruptedWrites} sees either all old files or all new ones, never a
   * mix (a new key beside an old certificate would fail every handshake).
   *
   * <p>All temporary files are written and fsync'd first; then a journal naming them
   * ({@code .<first file>.commit}) is published atomically: that is the commit point. The renames
   * follow and the journal is removed last. A crash before the commit leaves the old set (and
   * temporary files nobody reads); a crash after it leaves a journal that
   * {@link #finishInterruptedWrites} completes.
   *
   * @throws IllegalArgumentException if the files are not all in one directory
   */
  public static void writeAll(List<Content> files) throws IOException {
    writeAll(files, AtomicFiles::replace);
  }

  /** {@link #writeAll(List)} with the renames done by {@code rename} (tests crash it half-way). */
  static void writeAll(List<Content> files, Rename rename) throws IOException {
    if (files.isEmpty()) {
      return;
    }
    Path dir = files.get(0).file().toAbsolutePath().getParent();
    for (Content f : files) {
      if (!f.file().toAbsolutePath().getParent().equals(dir)) {
        throw new IllegalArgumentException("a set of files must share one directory: " + f.file() + " is not in " + dir);
      }
    }
    List<Path> temps = new ArrayList<>();
    Path journal = journalOf(files.get(0).file());
    boolean committed = false;
    try {
      StringBuilder entries = new StringBuilder();
      for (Content f : files) {
        Path tmp = writeTemp(f.file(), f.bytes(), f.permissions());
        temps.add(tmp);
        entries.append(tmp.getFileName()).append('\t').append(f.file().getFileName()).append('\n');
      }
      write(journal, entries.toString().getBytes(StandardCharsets.UTF_8), OWNER_ONLY);
      committed = true;
      for (int i = 0; i < files.size(); i++) {
        rename.rename(temps.get(i), files.get(i).file());
      }
      syncDirectory(journal);
      Files.delete(journal);
      syncDirectory(journal);
    } finally {
      if (!committed) {
        for (Path tmp : temps) {
          Files.deleteIfExists(tmp); // never published: the old set stays
        }
      } // once committed, the journal and its temporary files are what finishes the set
    }
  }

  /**
   * Completes any set that {@link #writeAll} committed in {@code dir} but did not finish (the
   * process died during the renames): every temporary file its journal names that still exists
   * is renamed into place, then the journal is removed. Call it before reading files written as a
   * set. Idempotent; a directory without journals is left as it is.
   *
   * @return whether a set was completed now
   */
  public static boolean finishInterruptedWrites(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    List<Path> journals = new ArrayList<>();
    try (DirectoryStream<Path> found = Files.newDirectoryStream(dir, "." + "*" + JOURNAL_SUFFIX)) {
      found.forEach(journals::add);
    }
    for (Path journal : journals) {
      for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
        int tab = line.indexOf('\t');
        if (tab <= 0) {
          continue;
        }
        Path tmp = dir.resolve(line.substring(0, tab)).normalize();
        Path file = dir.resolve(line.substring(tab + 1)).normalize();
        if (!dir.equals(tmp.getParent()) || !dir.equals(file.getParent())) {
          continue; // a journal names files of its own directory only
        }
        if (Files.exists(tmp, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          replace(tmp, file);
        }
      }
      syncDirectory(journal);
      Files.delete(journal);
      syncDirectory(journal);
    }
    return !journals.isEmpty();
  }

  private static final String JOURNAL_SUFFIX = ".commit";

  private static Path journalOf(Path first) {
    return first.toAbsolutePath().getParent().resolve("." + first.getFileName() + JOURNAL_SUFFIX);
  }

  private static void replace(Path tmp, Path file) throws IOException {
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** A rename of a temporary file over its target. */
  @FunctionalInterface
  interface Rename {
    void rename(Path tmp, Path file) throws IOException;
  }

  /** One file for {@link #writeAll}. */
  public record Content(Path file, byte[] bytes, Set<PosixFilePermission> permissions) {}

  /**
   * Writes {@code content} to {@code file} with {@code permissions} only if {@code file} does not
   * exist; the check and the publication are one atomic step (a hard link).
   *
   * @throws FileAlreadyExistsException if {@code file} exists; it is left untouched
   */
  public static void writeNew(Path file, byte[] content, Set<PosixFilePermission> permissions)
      throws IOException {
    if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(file.toString());
    }
    Path tmp = writeTemp(file, content, permissions);
    try {
      Files.createLink(file, tmp);
    } finally {
      Files.deleteIfExists(tmp);
    }
    syncDirectory(file);
  }

  /** What {@link #writeTemp} names a temporary file: {@code .<name>.tmp-<12 hex digits>}. */
  private static final java.util.regex.Pattern TEMP_NAME = java.util.regex.Pattern.compile("\\..+\\.tmp-[0-9a-f]{12}");

  /**
   * Deletes the temporary files that a crash (SIGKILL, power loss) between writing and publishing
   * left in {@code dir}: the ones this class names, nothing else. Sets interrupted after their
   * commit are completed first ({@link #finishInterruptedWrites}), so no committed content is lost. Call it at start-up, before
   * anything writes to {@code dir}: a writer still busy there would lose its temporary file.
   *
   * @return the files deleted; empty when {@code dir} does not exist
   */
  public static List<Path> deleteLeftoverTemps(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    // A committed set's journal names temporary files that are its new content: finish it first.
    finishInterruptedWrites(dir);
    List<Path> deleted = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (TEMP_NAME.matcher(f.getFileName().toString()).matches()
            && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          Files.deleteIfExists(f);
          deleted.add(f);
        }
      }
    }
    return deleted;
  }

  private static Path writeTemp(Path file, byte[] content, Set<PosixFilePermission> permissions)
      throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIRECTORY));
    }
    byte[] suffix = new byte[6];
    RANDOM.nextBytes(suffix);
    Path tmp = dir.resolve("." + file.getFileName() + ".tmp-" + HexFormat.of().formatHex(suffix));
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
    try {
      Files.setPosixFilePermissions(tmp, permissions); // exact mode, whatever the umask
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      return tmp;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  private static void syncDirectory(Path file) throws IOException {
    // The rename or link is durable only once the directory entry is on disk.
    try (FileChannel ch = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
