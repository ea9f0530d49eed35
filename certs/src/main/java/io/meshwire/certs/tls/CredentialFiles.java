package io.meshwire.certs.tls;

import io.meshwire.certs.AtomicFiles;
import io.meshwire.certs.CertificateStoreException;
import io.meshwire.certs.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code CredentialFiles} replaces a whole credential set in a directory ({@code <base>.key},
 * {@code <base>.crt} and {@code ca.crt}) so that a reader after a crash finds either the old set
 * or the new one, never a key of one with a certificate of the other.
 *
 * <p>How: the new files are written and fsync'd into a staging directory, which is then renamed to
 * {@value #PENDING} (the commit point, one atomic rename); then each file is moved into place and
 * the staging directory removed. {@link #completePending} redoes the moves of a committed set that
 * a crash interrupted, and drops a staging directory that was never committed; a process that
 * reads the set calls it first. The set that was replaced is kept in {@code replaced-<time>/}.
 * Not thread-safe: one writer per directory (the CLI while the agent is stopped, or the agent at
 * start).
 */
public final class CredentialFiles {

  /** The committed, not yet completed, new set. */
  public static final String PENDING = "credentials.pending";

  private static final String STAGING = ".credentials.staging";

  private CredentialFiles() {}

  /** Replaces the set {@code base} in {@code dir} with {@code credentials}; returns where the old set went. */
  public static Path replace(Path dir, String base, TlsCredentials credentials) {
    try {
      completePending(dir, base);
      Path staging = dir.resolve(STAGING);
      deleteTree(staging);
      Pem.writePrivateKey(staging.resolve(base + ".key"), credentials.privateKey());
      Pem.writeCertificates(staging.resolve(base + ".crt"), credentials.chain());
      Pem.writeCertificates(staging.resolve("ca.crt"), credentials.trustAnchors());
      Path replaced = dir.resolve("replaced-" + Instant.now().toString().replace(':', '-'));
      AtomicFiles.write(staging.resolve("replaced-to"), replaced.getFileName().toString().getBytes(StandardCharsets.UTF_8),
          AtomicFiles.OWNER_ONLY);
      Files.move(staging, dir.resolve(PENDING), StandardCopyOption.ATOMIC_MOVE); // the commit point
      sync(dir);
      completePending(dir, base);
      return replaced;
    } catch (IOException e) {
      throw new CertificateStoreException(dir, "cannot replace the credentials: " + e.getMessage(), e);
    }
  }

  /**
   * Finishes a replacement that was committed but interrupted, and removes one that never was.
   *
   * @return whether a committed set was put in place now
   */
  public static boolean completePending(Path dir, String base) {
    try {
      deleteTree(dir.resolve(STAGING));
      Path pending = dir.resolve(PENDING);
      if (!Files.isDirectory(pending)) {
        return false;
      }
      Path replaced = dir.resolve(Files.readString(pending.resolve("replaced-to"), StandardCharsets.UTF_8).strip());
      Files.createDirectories(replaced);
      for (String name : List.of(base + ".key", base + ".crt", "ca.crt")) {
        Path fresh = pending.resolve(name);
        if (!Files.exists(fresh)) {
          continue; // moved before the interruption
        }
        Path current = dir.resolve(name);
        if (Files.exists(current) && !Files.exists(replaced.resolve(name))) {
          Files.copy(current, replaced.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Files.move(fresh, current, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
      sync(dir);
      deleteTree(pending);
      sync(dir);
      return true;
    } catch (IOException e) {
      throw new CertificateStoreException(dir, "cannot complete the credential replacement in " + PENDING
          + ": " + e.getMessage(), e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }

  private static void sync(Path dir) throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
