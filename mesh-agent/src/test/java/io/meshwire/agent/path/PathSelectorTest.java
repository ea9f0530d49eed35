package io.meshwire.agent.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PathSelectorTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final PathSelector selector = new PathSelector(PathPolicy.defaults(), meters);

  private double gauge(String peer, String path) {
    var g = meters.find("meshwire.agent.peer.path").tags("peer", peer, "path", path).gauge();
    return g == null ? -1 : g.value();
  }

  private double switches(String peer, String to) {
    var c = meters.find("meshwire.agent.path.switches").tags("peer", peer, "to", to).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void metricsShowEachLinksPathAndCountSwitches() {
    selector.track("b", null, T0);
    assertEquals(1, gauge("b", "trying"));
    selector.observe("b", Observation.of(T0.plusSeconds(1), Evidence.ALIVE, true));
    for (int i = 2; i <= 4; i++) {
      selector.observe("b", Observation.of(T0.plusSeconds(i), Evidence.MISS, true));
    }

    assertEquals(0, gauge("b", "direct"));
    assertEquals(1, gauge("b", "relayed"));
    assertEquals(1, switches("b", "direct"));
    assertEquals(1, switches("b", "relayed"));
    assertEquals(Path.RELAYED, selector.save(java.util.List.of()).links().get("b").path());
  }

  @Test
  void aRestartPutsARelayedLinkBackOnTheRelayAtOnce() {
    LinkPath l = selector.track("b", new SavedPaths.Link(Path.RELAYED, T0, Duration.ofSeconds(20)), T0.plusSeconds(60));
    assertEquals(Path.RELAYED, l.path());
    assertEquals(T0, l.since());
    assertEquals(1, gauge("b", "relayed"));
  }

  @Test
  void aDepartedPeersGaugesGo() {
    selector.track("b", null, T0);
    selector.forget("b");
    assertEquals(-1, gauge("b", "trying"));
    assertNull(selector.current("b"));
  }
}
