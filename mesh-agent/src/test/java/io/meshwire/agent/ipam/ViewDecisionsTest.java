package io.meshwire.agent.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.StateFile;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.agent.sync.MeshSync;
import io.meshwire.netaddr.Cidr;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decisions through the agent's state: persisted before use, the same after a simulated restart
 * (state file reloaded, hub never contacted), released with the peer, and exhaustion in the gauge.
 */
class ViewDecisionsTest {

  private static final String SELF = "east";
  private static final IpamSettings SETTINGS = new IpamSettings(List.of(Cidr.parse("10.244.0.0/16")),
      List.of(Cidr.parse("10.96.0.0/12")), List.of(), List.of(Cidr.parse("10.0.0.0/15")));

  @TempDir Path dir;
  private final AtomicInteger changed = new AtomicInteger();
  private Instant now = Instant.parse("2025-06-01T00:00:00Z");
  private final InstantSource clock = () -> now;

  private static PeerRecord peer(String id, int n, String podCidr) {
    PeerRecord base = TestStates.peer(id, n);
    return new PeerRecord(id, base.wireguardPublicKey(), 51820, base.gatewayEndpoints(),
        List.of(Cidr.parse(podCidr)), List.of(), Optional.empty(), Map.of(), 1, 1);
  }

  private StateFile file() {
    return new StateFile(dir.resolve("state.bin"), clock);
  }

  /** What the agent does at start: load the file, or begin fresh. */
  private MeshSync boot() throws IOException {
    AgentState initial = file().load() instanceof StateFile.Loaded.Found f ? f.state()
        : AgentState.initial(TestStates.key(0x77));
    return new MeshSync(SELF, initial, file(), false, s -> {});
  }

  private ViewDecisions decisions(MeshSync sync, SimpleMeterRegistry meters) {
    return new ViewDecisions(SELF, SETTINGS, sync, clock, meters, changed::incrementAndGet);
  }

  private static void snapshot(MeshSync sync, long revision, PeerRecord... peers) {
    sync.hello("mesh-1", revision, true);
    sync.snapshot(revision, List.of(peers), List.of());
    sync.caughtUp(revision);
  }

  @Test
  void decisionsArePersistedAndTheSameAfterARestartWithoutHub() throws IOException {
    MeshSync sync = boot();
    snapshot(sync, 5, peer("west", 2, "10.244.0.0/16"), peer("north", 3, "10.244.0.0/16"),
        peer("south", 4, "10.7.0.0/16"));
    ViewDecisions first = decisions(sync, new SimpleMeterRegistry());

    Map<String, View> decided = first.decide().state().myViews();

    assertEquals(Cidr.parse("10.0.0.0/16"), decided.get("north").seenAs(Cidr.parse("10.244.0.0/16")));
    assertEquals(Cidr.parse("10.1.0.0/16"), decided.get("west").seenAs(Cidr.parse("10.244.0.0/16")));
    assertEquals(Cidr.parse("10.7.0.0/16"), decided.get("south").seenAs(Cidr.parse("10.7.0.0/16")));
    assertEquals(1, changed.get());
    AgentState onDisk = assertInstanceOf(StateFile.Loaded.Found.class, file().load()).state();
    assertEquals(decided, onDisk.myViews());

    // Restart: a new sync from the file, a later clock, no hub. Nothing is re-decided.
    now = now.plusSeconds(3600);
    MeshSync restarted = boot();
    ViewDecisions second = decisions(restarted, new SimpleMeterRegistry());
    ViewDecisions.Decided again = second.decide();

    assertEquals(decided, again.state().myViews());
    assertEquals(1, changed.get(), "nothing changed, nothing to publish");
    assertEquals(5, restarted.state().revision(), "the hub was not needed");
  }

  @Test
  void aDepartedPeerIsReleasedAndItsBlockReused() throws IOException {
    MeshSync sync = boot();
    snapshot(sync, 5, peer("west", 2, "10.244.0.0/16"));
    ViewDecisions d = decisions(sync, new SimpleMeterRegistry());
    assertEquals(Cidr.parse("10.0.0.0/16"), d.decide().state().myViews().get("west").seenAs(Cidr.parse("10.244.0.0/16")));

    sync.removed(6, "west", false);
    assertEquals(Map.of(), d.decide().state().myViews());
    sync.upserted(7, peer("north", 3, "10.244.0.0/16"));

    assertEquals(Cidr.parse("10.0.0.0/16"),
        d.decide().state().myViews().get("north").seenAs(Cidr.parse("10.244.0.0/16")));
  }

  @Test
  void exhaustionIsAGaugeAndAConditionAndTheOthersKeepTheirViews() throws IOException {
    MeshSync sync = boot();
    // 10.0.0.0/15 holds two /16s.
    snapshot(sync, 5, peer("a", 2, "10.244.0.0/16"), peer("b", 3, "10.244.0.0/16"), peer("c", 4, "10.244.0.0/16"),
        peer("d", 5, "10.9.0.0/16"));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ViewDecisions d = decisions(sync, meters);

    ViewDecisions.Decided decided = d.decide();

    assertEquals(java.util.Set.of("c"), decided.allocation().exhausted());
    assertEquals(java.util.Set.of("a", "b", "d"), decided.state().myViews().keySet());
    assertEquals("POOL_EXHAUSTED", d.last().decisions().get("c").condition());
    assertEquals(1.0, meters.get("meshwire.agent.ipam.exhausted").gauge().value());

    sync.removed(6, "a", false);
    d.decide();
    assertEquals(0.0, meters.get("meshwire.agent.ipam.exhausted").gauge().value());
    assertEquals("REMAPPED", d.last().decisions().get("c").condition());
  }

  @Test
  void anUnchangedDecisionWritesNothing() throws IOException {
    MeshSync sync = boot();
    snapshot(sync, 5, peer("west", 2, "10.244.0.0/16"));
    ViewDecisions d = decisions(sync, new SimpleMeterRegistry());
    AgentState first = d.decide().state();

    AgentState second = d.decide().state();

    assertSame(first, second);
    assertEquals(1, changed.get());
  }
}
