package io.meshwire.certs;

import java.nio.file.Path;

/**
 * {@code CertificateStoreException} reports that a file kept by this module (CA directory, join
 * token store, revocation list, issued credentials) cannot be read, written or would be
 * overwritten. The message starts with the file's path, and a line number when it is a parse
 * error.
 */
public final class CertificateStoreException extends RuntimeException {

  private final Path path;

  /** Creates an exception about {@code path} saying {@code what}. */
  public CertificateStoreException(Path path, String what) {
    super(path + ": " + what);
    this.path = path;
  }

  /** Same, keeping {@code cause}. */
  public CertificateStoreException(Path path, String what, Throwable cause) {
    super(path + ": " + what, cause);
    this.path = path;
  }

  /** Returns the file the problem is about. */
  public Path path() {
    return path;
  }
}
