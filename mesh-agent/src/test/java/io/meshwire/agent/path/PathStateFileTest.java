package io.meshwire.agent.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PathStateFileTest {

  @TempDir Path dir;

  @Test
  void keepsRelaysAndLinkPathsAcrossARestartInAnOwnerOnlyFile() throws Exception {
    PathStateFile file = new PathStateFile(dir.resolve("paths.bin"), InstantSource.system());
    SavedPaths saved = new SavedPaths(List.of(new HostPort("relay-1.example.com", 443), new HostPort("10.0.0.5", 443)),
        Map.of("b", new SavedPaths.Link(io.meshwire.agent.path.Path.RELAYED, Instant.parse("2026-01-01T00:00:00Z"),
            Duration.ofSeconds(40)),
            "c", new SavedPaths.Link(io.meshwire.agent.path.Path.DIRECT, Instant.parse("2026-01-01T00:01:00Z"),
                Duration.ofSeconds(5))));

    file.save(saved);

    assertEquals(new PathStateFile.Loaded.Found(saved), new PathStateFile(dir.resolve("paths.bin"),
        InstantSource.system()).load());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("paths.bin"))));
  }

  @Test
  void aCorruptFileIsMovedAsideAndNothingIsRestored() throws Exception {
    PathStateFile file = new PathStateFile(dir.resolve("paths.bin"), InstantSource.system());
    file.save(new SavedPaths(List.of(new HostPort("10.0.0.5", 443)), Map.of()));
    byte[] bytes = Files.readAllBytes(dir.resolve("paths.bin"));
    bytes[bytes.length - 1] ^= 1;
    Files.write(dir.resolve("paths.bin"), bytes);

    PathStateFile.Loaded loaded = file.load();

    PathStateFile.Loaded.Corrupt corrupt = assertInstanceOf(PathStateFile.Loaded.Corrupt.class, loaded);
    assertTrue(Files.exists(corrupt.movedTo()));
    assertFalse(Files.exists(dir.resolve("paths.bin")));
    assertInstanceOf(PathStateFile.Loaded.Missing.class, file.load());
  }
}
