package io.meshwire.certs.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replacing a cluster's credential set (a rejoin): all three files or none, also across a crash. */
class CredentialFilesTest {

  @TempDir Path dir;

  private static TlsCredentials issued(String mesh) {
    MeshCa ca = MeshCa.create(mesh, Duration.ofDays(30), InstantSource.system());
    IssuedCredential c = ca.issue(new SpiffeId(mesh, Role.CLUSTER, "east"), Duration.ofDays(1));
    return new TlsCredentials(c.privateKey(), List.of(c.certificate()), List.of(c.ca()));
  }

  private void write(TlsCredentials creds) {
    Pem.writePrivateKey(dir.resolve("cluster.key"), creds.privateKey());
    Pem.writeCertificates(dir.resolve("cluster.crt"), creds.chain());
    Pem.writeCertificates(dir.resolve("ca.crt"), creds.trustAnchors());
  }

  private static String meshOf(TlsCredentials creds) {
    return MeshCa.meshOf(creds.trustAnchors().get(0));
  }

  @Test
  void replacesTheWholeSetAndKeepsTheOldOne() throws Exception {
    TlsCredentials old = issued("old.mesh");
    write(old);
    TlsCredentials fresh = issued("new.mesh");

    Path replaced = CredentialFiles.replace(dir, "cluster", fresh);

    TlsCredentials loaded = TlsCredentials.load(dir, "cluster");
    assertEquals(fresh.leaf(), loaded.leaf());
    assertEquals(fresh.privateKey(), loaded.privateKey());
    assertEquals("new.mesh", meshOf(loaded));
    assertEquals(old.leaf(), TlsCredentials.load(replaced, "cluster").leaf());
    assertFalse(CredentialFiles.completePending(dir), "the set was completed, no journal is left");
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir.resolve("cluster.key"))));
  }

  /** A crash inside the replacement: see AtomicFilesTest, which crashes the set's renames one by one. */
  @Test
  void withNothingInterruptedThereIsNothingToComplete() throws Exception {
    write(issued("old.mesh"));
    assertFalse(CredentialFiles.completePending(dir));
  }
}
