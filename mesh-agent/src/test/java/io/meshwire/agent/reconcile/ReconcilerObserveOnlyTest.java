package io.meshwire.agent.reconcile;

import static io.meshwire.agent.state.TestStates.key;
import static io.meshwire.agent.state.TestStates.peer;
import static io.meshwire.agent.state.TestStates.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.wireguard.DataPlane;
import io.meshwire.agent.wireguard.MemoryRoutes;
import io.meshwire.agent.wireguard.MemoryWireGuard;
import io.meshwire.agent.wireguard.WgPeerState;
import io.meshwire.netaddr.Cidr;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An agent without authoritative state (corrupt, refused or missing state file) leaves the data
 * plane a previous agent left serving exactly as it is, until the hub's state arrives.
 */
class ReconcilerObserveOnlyTest {

  private static final String IF = "mwobs0";
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
  private final MemoryRoutes routes = new MemoryRoutes();
  private final AtomicBoolean caughtUp = new AtomicBoolean();
  private final AtomicReference<AgentState> current = new AtomicReference<>();

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  private Reconciler reconciler(MemoryWireGuard wireGuard, ObserveOnly observeOnly) {
    return new Reconciler(new Reconciler.Interface(IF, 51820, Optional.empty()), wireGuard,
        new DataPlane(wireGuard, routes), Optional.empty(), observeOnly, current::get, executor,
        Duration.ofHours(1), new SimpleMeterRegistry(), java.net.InetAddress::getByName);
  }

  /** What a previous agent left: its key, peers b and c with their routes. */
  private MemoryWireGuard servingWithPeersBAndC() {
    MemoryWireGuard wireGuard = MemoryWireGuard.existing();
    current.set(state("mesh-1", 10, peer("b", 2), peer("c", 3)));
    reconciler(wireGuard, ObserveOnly.off()).reconcileNow();
    assertEquals(2, wireGuard.peers.size());
    return wireGuard;
  }

  private static Set<String> peerKeys(MemoryWireGuard wireGuard) {
    return wireGuard.peers.values().stream().map(WgPeerState::publicKey).collect(Collectors.toSet());
  }

  @Test
  void withoutAuthoritativeStateNoPeerRouteOrKeyOfAServingInterfaceChanges() {
    MemoryWireGuard wireGuard = servingWithPeersBAndC();
    Set<String> peersBefore = peerKeys(wireGuard);
    TreeSet<Cidr> routesBefore = new TreeSet<>(routes.routes);
    List<String> keysBefore = List.copyOf(wireGuard.keysSet);

    // The restarted agent's state file was corrupt: it starts from an empty state with a new key.
    current.set(AgentState.initial(key(0x55)));
    Reconciler observing = reconciler(wireGuard, ObserveOnly.until("state file corrupt", caughtUp::get));
    for (int pass = 0; pass < 3; pass++) {
      assertEquals(List.of(), observing.reconcileNow());
    }

    assertEquals(peersBefore, peerKeys(wireGuard), "peers");
    assertEquals(routesBefore, routes.routes, "routes");
    assertEquals(keysBefore, wireGuard.keysSet, "interface key");
    assertEquals(Optional.of("state file corrupt"), observing.observeOnly());
    assertTrue(observing.applied(), "ready: the data plane serves as it was left");
  }

  @Test
  void onceTheHubsStateIsAuthoritativeTheAgentManagesTheDataPlaneAgain() {
    MemoryWireGuard wireGuard = servingWithPeersBAndC();
    current.set(AgentState.initial(key(0x77)));
    Reconciler observing = reconciler(wireGuard, ObserveOnly.until("state file corrupt", caughtUp::get));
    observing.reconcileNow();
    assertEquals(2, wireGuard.peers.size());

    current.set(state("mesh-1", 12, peer("b", 2))); // the hub's snapshot: c left the mesh meanwhile
    caughtUp.set(true);
    observing.reconcileNow();

    assertEquals(Optional.empty(), observing.observeOnly());
    assertEquals(Set.of(key(2)), peerKeys(wireGuard));
    assertEquals(Set.of(Cidr.parse("10.2.0.0/16")), routes.routes);
  }

  @Test
  void anInterfaceThatDoesNotExistIsBuiltEvenWithoutAuthoritativeState() {
    MemoryWireGuard wireGuard = MemoryWireGuard.absent();
    current.set(AgentState.initial(key(0x55)));
    Reconciler fresh = reconciler(wireGuard, ObserveOnly.until("no state file", caughtUp::get));
    fresh.reconcileNow();
    assertEquals(List.of(key(0x55)), wireGuard.keysSet, "nothing to protect: the interface is created");
  }
}
