package io.meshwire.agent.reflect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwire.certs.FakeClock;
import io.meshwire.reflection.catalog.Catalog;
import io.meshwire.reflection.catalog.CatalogLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Catalog writes coalesced on the persister's own thread; close writes what is left. No waiting. */
class CatalogPersisterTest {

  @TempDir Path dir;

  @Test
  void aBurstOfChangesIsOneWriteOfTheLatestAndCloseWritesIt() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    PeerCatalogStore store = new PeerCatalogStore(dir, CatalogLimits.defaults(), new FakeClock());
    // A delay no test reaches: only close() writes.
    CatalogPersister persister = new CatalogPersister(store, Duration.ofHours(1), Duration.ofHours(1), meters);
    for (int i = 1; i <= 100; i++) {
      persister.persistSoon(Map.of("west", Catalog.empty("uid-" + i)));
    }
    assertInstanceOf(PeerCatalogStore.Loaded.Missing.class, store.load(), "nothing written before the delay");
    persister.close();
    PeerCatalogStore.Loaded.Found found = assertInstanceOf(PeerCatalogStore.Loaded.Found.class, store.load());
    assertEquals("uid-100", found.catalogs().get("west").catalogUid());
    assertEquals(1.0, meters.get("meshwire.agent.peer.catalogs.writes").counter().count());
  }

  @Test
  void closeWithNothingPendingWritesNothing() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    PeerCatalogStore store = new PeerCatalogStore(dir, CatalogLimits.defaults(), new FakeClock());
    new CatalogPersister(store, Duration.ofHours(1), Duration.ofHours(1), meters).close();
    assertInstanceOf(PeerCatalogStore.Loaded.Missing.class, store.load());
    assertEquals(0.0, meters.get("meshwire.agent.peer.catalogs.writes").counter().count());
  }
}
