package io.meshwire.agent.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwire.netaddr.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay list from the hub survives a restart (hub down) and is written only when it changes. */
class KnownRelaysTest {

  @TempDir Path dir;

  private static final List<HostPort> TWO = List.of(new HostPort("relay-1.example.com", 443),
      new HostPort("10.0.0.5", 443));

  private final List<List<HostPort>> written = new ArrayList<>();

  private KnownRelays relays(PathStateFile file, List<HostPort> initial) {
    return new KnownRelays(file, initial, r -> {
      written.add(r);
      return new SavedPaths(r, Map.of());
    });
  }

  @Test
  void anAgentRestartedWithoutTheHubStillKnowsTheRelaysTheHubListed() throws Exception {
    KnownRelays before = relays(new PathStateFile(dir.resolve("paths.bin"), InstantSource.system()), List.of());
    before.accept(TWO);

    PathStateFile.Loaded loaded = new PathStateFile(dir.resolve("paths.bin"), InstantSource.system()).load();
    KnownRelays after = relays(new PathStateFile(dir.resolve("paths.bin"), InstantSource.system()),
        assertInstanceOf(PathStateFile.Loaded.Found.class, loaded).paths().relays());

    assertEquals(TWO, after.current());
  }

  @Test
  void theSameListInEveryHelloIsWrittenOnceAndAnEmptyListTurnsRelaysOff() {
    KnownRelays relays = relays(new PathStateFile(dir.resolve("paths.bin"), InstantSource.system()), List.of());
    relays.accept(TWO);
    relays.accept(TWO);
    relays.accept(List.of());

    assertEquals(List.of(TWO, List.of()), written);
    assertEquals(List.of(), relays.current());
  }

  @Test
  void aFailedWriteKeepsTheListInMemoryAndIsRetriedWithTheNextHello() throws Exception {
    Path blocker = Files.writeString(dir.resolve("not-a-directory"), "x");
    KnownRelays relays = relays(new PathStateFile(blocker.resolve("paths.bin"), InstantSource.system()), List.of());

    relays.accept(TWO);
    assertEquals(TWO, relays.current(), "in use although not written");
    Files.delete(blocker);
    relays.accept(TWO);

    assertEquals(List.of(TWO, TWO), written, "written again at the next hello");
    assertInstanceOf(PathStateFile.Loaded.Found.class,
        new PathStateFile(blocker.resolve("paths.bin"), InstantSource.system()).load());
  }
}
