package io.meshwire.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.tls.TlsCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written as a set: whatever step the process dies at, a reader that finishes interrupted
 * writes first sees the old set or the new one. A "crash" is a rename that throws; the writer's
 * own clean-up after the commit point must not undo the set (a real crash runs no clean-up).
 */
class AtomicFilesTest {

  @TempDir Path dir;

  private List<AtomicFiles.Content> set(String version) {
    return List.of(
        new AtomicFiles.Content(dir.resolve("a.key"), bytes("key " + version), AtomicFiles.OWNER_ONLY),
        new AtomicFiles.Content(dir.resolve("a.crt"), bytes("crt " + version), AtomicFiles.WORLD_READABLE),
        new AtomicFiles.Content(dir.resolve("ca.crt"), bytes("ca " + version), AtomicFiles.WORLD_READABLE));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private String read(String name) throws IOException {
    return Files.readString(dir.resolve(name));
  }

  /** Renames {@code before} files, then "crashes". */
  private static AtomicFiles.Rename crashingAfter(int before) {
    AtomicInteger done = new AtomicInteger();
    return (tmp, file) -> {
      if (done.getAndIncrement() == before) {
        throw new IOException("simulated crash");
      }
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    };
  }

  @Test
  void aCrashBetweenTheRenamesIsCompletedToTheNewSet() throws IOException {
    AtomicFiles.writeAll(set("1"));
    for (int renamed = 0; renamed < 3; renamed++) {
      AtomicFiles.writeAll(set("1"));
      int r = renamed;
      assertThrows(IOException.class, () -> AtomicFiles.writeAll(set("2"), crashingAfter(r)));
      AtomicFiles.finishInterruptedWrites(dir);
      assertEquals(List.of("key 2", "crt 2", "ca 2"), List.of(read("a.key"), read("a.crt"), read("ca.crt")),
          "after " + renamed + " renames");
      assertEquals(List.of("a.crt", "a.key", "ca.crt"), names(), "journal and temporary files gone");
    }
  }

  @Test
  void leftoverTempsAreDeletedButACommittedSetIsFinishedFirst() throws IOException {
    AtomicFiles.writeAll(set("1"));
    assertThrows(IOException.class, () -> AtomicFiles.writeAll(set("2"), crashingAfter(1)));
    Files.write(dir.resolve(".tokens.json.tmp-0123456789ab"), new byte[100]); // a killed single-file rewrite

    AtomicFiles.deleteLeftoverTemps(dir);

    assertEquals(List.of("key 2", "crt 2", "ca 2"), List.of(read("a.key"), read("a.crt"), read("ca.crt")));
    assertEquals(List.of("a.crt", "a.key", "ca.crt"), names(), "journal and temporary files gone");
  }

  @Test
  void aCrashBeforeTheCommitLeavesTheOldSet() throws IOException {
    AtomicFiles.writeAll(set("1"));
    Files.createDirectory(dir.resolve(".a.key.commit")); // the journal cannot be published
    assertThrows(IOException.class, () -> AtomicFiles.writeAll(set("2")));
    Files.delete(dir.resolve(".a.key.commit"));
    AtomicFiles.finishInterruptedWrites(dir);
    assertEquals(List.of("key 1", "crt 1", "ca 1"), List.of(read("a.key"), read("a.crt"), read("ca.crt")));
    assertEquals(List.of("a.crt", "a.key", "ca.crt"), names(), "no temporary file left behind");
  }

  @Test
  void filesOfOneSetShareADirectory() {
    assertThrows(IllegalArgumentException.class, () -> AtomicFiles.writeAll(List.of(
        new AtomicFiles.Content(dir.resolve("a"), bytes("x"), AtomicFiles.OWNER_ONLY),
        new AtomicFiles.Content(dir.resolve("sub/b"), bytes("y"), AtomicFiles.OWNER_ONLY))));
  }

  @Test
  void credentialsRenewedDuringACrashLoadAsOneMatchingPair() throws Exception {
    MeshCa ca = MeshCa.create("mesh.test", Duration.ofDays(30), new FakeClock());
    SpiffeId id = new SpiffeId("mesh.test", Role.CLUSTER, "east");
    TlsCredentials old = TlsCredentials.of(ca.issue(id, Duration.ofDays(1)));
    TlsCredentials renewed = TlsCredentials.of(ca.issue(id, Duration.ofDays(1)));
    old.writeTo(dir, "cluster");
    AtomicFiles.Rename crash = crashingAfter(1); // the new key is in place, the certificate not yet
    assertThrows(IOException.class, () -> AtomicFiles.writeAll(List.of(
        new AtomicFiles.Content(dir.resolve("cluster.key"), bytes(Pem.encodePrivateKey(renewed.privateKey())),
            AtomicFiles.OWNER_ONLY),
        new AtomicFiles.Content(dir.resolve("cluster.crt"), bytes(Pem.encodeCertificates(renewed.chain())),
            AtomicFiles.WORLD_READABLE)), crash));
    TlsCredentials loaded = TlsCredentials.load(dir, "cluster");
    assertEquals(renewed.leaf(), loaded.leaf());
    assertEquals(renewed.privateKey(), loaded.privateKey(), "the key belongs to the certificate");
  }

  private List<String> names() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void finishingWithNothingInterruptedChangesNothing() throws IOException {
    AtomicFiles.writeAll(set("1"));
    DirSnapshot before = DirSnapshot.of(dir);
    AtomicFiles.finishInterruptedWrites(dir);
    assertEquals(before, DirSnapshot.of(dir));
    assertTrue(Files.exists(dir.resolve("a.key")));
  }
}
