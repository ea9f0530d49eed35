package io.meshwire.certs.tls;

import io.meshwire.certs.AtomicFiles;
import io.meshwire.certs.CertificateStoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;

/**
 * {@code CredentialFiles} replaces a whole credential set in a directory ({@code <base>.key},
 * {@code <base>.crt} and {@code ca.crt}) and keeps the set it replaced in {@code replaced-<time>/}.
 * The new set is written as one ({@link TlsCredentials#writeTo}, through
 * {@link AtomicFiles#writeAll}'s commit journal): a reader after a crash finds the old set or the
 * new one, never a key of one with a certificate of the other. Not thread-safe: one writer per
 * directory (the CLI while the agent is stopped, or the agent at start).
 */
public final class CredentialFiles {

  private CredentialFiles() {}

  /** Replaces the set {@code base} in {@code dir} with {@code credentials}; returns where the old set went. */
  public static Path replace(Path dir, String base, TlsCredentials credentials) {
    try {
      AtomicFiles.finishInterruptedWrites(dir);
      Path replaced = dir.resolve("replaced-" + Instant.now().toString().replace(':', '-'));
      for (String name : List.of(base + ".key", base + ".crt", "ca.crt")) {
        Path current = dir.resolve(name);
        if (Files.exists(current)) {
          Files.createDirectories(replaced);
          Files.copy(current, replaced.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
      credentials.writeTo(dir, base);
      return replaced;
    } catch (IOException e) {
      throw new CertificateStoreException(dir, "cannot replace the credentials: " + e.getMessage(), e);
    }
  }

  /**
   * Finishes a replacement that was committed but interrupted by a crash.
   *
   * @return whether a committed set was put in place now
   */
  public static boolean completePending(Path dir) {
    try {
      return AtomicFiles.finishInterruptedWrites(dir);
    } catch (IOException e) {
      throw new CertificateStoreException(dir, "cannot complete an interrupted credential replacement: "
          + e.getMessage(), e);
    }
  }
}
