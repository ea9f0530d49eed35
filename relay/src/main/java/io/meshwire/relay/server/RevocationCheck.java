package io.meshwire.relay.server;

import io.meshwire.certs.RevocationList;
import io.meshwire.certs.Revocations;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509Certificate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RevocationCheck} tells the relay which client certificates are revoked. The relay asks at
 * each handshake and, for every live connection, at each sweep ({@link RelayConfig#revocationSweep}),
 * calling {@link #refresh()} first. Implementations must be thread-safe.
 */
public interface RevocationCheck {

  boolean isRevoked(X509Certificate cert);

  /** Brings the answer up to date (re-reads a file that changed); called on the sweep thread. */
  default void refresh() {}

  /** Nothing is revoked (tests, or a relay whose operator distributes no revocation list). */
  RevocationCheck NONE = cert -> false;

  /** The hub's own revocations (file or etcd), live: an embedded relay closes a revoked cluster's connection at the next sweep. */
  static RevocationCheck of(Revocations list) {
    return list::isRevoked;
  }

  /** Revoked when any of {@code checks} says so (a standalone relay: the hub's list and a file). */
  static RevocationCheck anyOf(java.util.List<RevocationCheck> checks) {
    java.util.List<RevocationCheck> all = java.util.List.copyOf(checks);
    return new RevocationCheck() {
      @Override
      public boolean isRevoked(X509Certificate cert) {
        for (RevocationCheck c : all) {
          if (c.isRevoked(cert)) {
            return true;
          }
        }
        return false;
      }

      @Override
      public void refresh() {
        all.forEach(RevocationCheck::refresh);
      }
    };
  }

  /**
   * The revocation list file a hub writes ({@code <hub data>/revocations.json}), re-read when its
   * modification time or size changes. A standalone relay is given this file (a shared volume or a
   * copy the operator syncs). A missing file revokes nothing; a file that cannot be read keeps the
   * last good list and logs once per change.
   */
  static RevocationCheck file(Path file) {
    return new FileRevocations(file);
  }

  /** See {@link RevocationCheck#file}. */
  final class FileRevocations implements RevocationCheck {
    private static final Logger log = LoggerFactory.getLogger(FileRevocations.class);
    private final Path file;
    private volatile RevocationList list;
    /** Sweep thread only. */
    private String stamp = "";

    FileRevocations(Path file) {
      this.file = file;
      this.list = RevocationList.open(file);
      this.stamp = stamp();
    }

    @Override
    public boolean isRevoked(X509Certificate cert) {
      return list.isRevoked(cert);
    }

    @Override
    public void refresh() {
      String now = stamp();
      if (now.equals(stamp)) {
        return;
      }
      stamp = now;
      try {
        list = RevocationList.open(file);
        log.info("event=revocations_reloaded file={} entries={}", file, list.entries().size());
      } catch (RuntimeException e) {
        log.warn("event=revocations_unreadable file={} error=\"{}\" kept=last_good", file, e.getMessage());
      }
    }

    private String stamp() {
      try {
        // Absent is the usual case beside --hub: no exception built every poll for it.
        BasicFileAttributes a = file.getFileSystem().provider().readAttributesIfExists(file,
            BasicFileAttributes.class);
        return a == null ? "absent" : a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey();
      } catch (IOException e) {
        return "error:" + e.getMessage();
      }
    }
  }
}
