package io.meshwire.agent.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.wireguard.WgInterfaceState;
import io.meshwire.agent.wireguard.WgPeerState;
import io.meshwire.certs.FakeClock;
import io.meshwire.netaddr.HostPort;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The path loop against a scripted WireGuard, relay and probe target, one tick a second on a
 * fake clock: what the agent does to WireGuard's endpoint, when, and what it persists.
 */
class PathLoopTest {

  private static final String KEY = "key-b";
  private static final InetSocketAddress GATEWAY = new InetSocketAddress("198.18.0.12", 51820);
  private static final InetSocketAddress BRIDGE = new InetSocketAddress("127.0.0.1", 40001);
  private static final List<HostPort> RELAYS = List.of(HostPort.parse("198.18.0.200:443"));

  private final FakeClock clock = new FakeClock();
  private final PathSelector selector = new PathSelector(PathPolicy.defaults(), new SimpleMeterRegistry());
  private final Map<String, PeerRecord> peers = new HashMap<>(Map.of("b", peer("b")));

  // Scripted WireGuard: counters and endpoint of peer b.
  private long rx;
  private long tx;
  private Optional<Instant> handshake = Optional.empty();
  private Optional<InetSocketAddress> endpoint = Optional.of(GATEWAY);
  private final List<InetSocketAddress> pins = new ArrayList<>();

  // Scripted relay and direct path.
  private boolean relayUp = true;
  private boolean connectsOnDemand;
  private final List<String> connected = new ArrayList<>();
  private boolean directAnswers;
  private int probesSent;
  private final List<InetSocketAddress> probeTargets = new ArrayList<>();
  private final Map<String, InetSocketAddress> sockets = new HashMap<>();
  private final List<String> closed = new ArrayList<>();
  private final List<SavedPaths> saves = new ArrayList<>();
  private int endpointsChanged;

  private final PathLoop.Relaying relay = new PathLoop.Relaying() {
    @Override
    public void relays(List<HostPort> relays) {}

    @Override
    public boolean canReach(String peer) {
      return relayUp || connected.contains(peer);
    }

    @Override
    public void connectTo(String peer) {
      if (connectsOnDemand && !connected.contains(peer)) {
        connected.add(peer);
      }
    }

    @Override
    public InetSocketAddress open(String peer) {
      return sockets.computeIfAbsent(peer, p -> BRIDGE);
    }

    @Override
    public Optional<InetSocketAddress> socket(String peer) {
      return Optional.ofNullable(sockets.get(peer));
    }

    @Override
    public void close(String peer) {
      sockets.remove(peer);
      closed.add(peer);
    }
  };

  private static PeerRecord peer(String id) {
    return new PeerRecord(id, KEY, 51820, List.of(new HostPort(GATEWAY.getHostString(), GATEWAY.getPort())),
        List.of(), List.of(), Optional.empty(), Map.of(), 1, 1);
  }

  private static PeerRecord peer(String id, int probePort, boolean relayOnly) {
    PeerRecord p = peer(id);
    return new PeerRecord(id, KEY, p.wireguardListenPort(), p.gatewayEndpoints(), p.podCidrs(), p.serviceCidrs(),
        p.peerChannelAddress(), p.labels(), 1, 1, probePort, relayOnly);
  }

  private PathLoop loop(SavedPaths saved) {
    PathLoop loop = new PathLoop(selector,
        new PathLoop.Sources(() -> Map.copyOf(peers), this::wireGuard, () -> RELAYS,
            hp -> Optional.of(new InetSocketAddress(hp.host(), hp.port()))),
        (target, timeout) -> {
          probesSent++;
          probeTargets.add(target);
          return CompletableFuture.completedFuture(directAnswers);
        },
        (peer, to) -> {
          pins.add(to);
          endpoint = Optional.of(to);
        },
        saved, saves::add, () -> endpointsChanged++, clock, Duration.ofSeconds(1));
    loop.relaying(relay);
    return loop;
  }

  private WgInterfaceState wireGuard() {
    return new WgInterfaceState("", "", 51820, peers.containsKey("b")
        ? List.of(new WgPeerState(KEY, endpoint, List.of(), handshake, rx, tx, Duration.ofSeconds(25)))
        : List.of());
  }

  /** {@code seconds} ticks; each second WireGuard sends, and receives when {@code receives}. */
  private void run(PathLoop loop, int seconds, boolean receives) {
    for (int i = 0; i < seconds; i++) {
      clock.advance(Duration.ofSeconds(1));
      tx += 100;
      if (receives) {
        rx += 100;
        handshake = Optional.of(clock.instant());
      }
      loop.tick();
    }
  }

  private Path path() {
    return selector.current("b").path();
  }

  @Test
  void newPeerWithoutHandshakeIsRelayedWithinSixSecondsOnItsBridgeSocket() {
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 6, false); // seen at the first tick, then 5 s without a handshake
    assertEquals(Path.TRYING, path());
    run(loop, 1, false);

    assertEquals(Path.RELAYED, path());
    assertEquals(List.of(BRIDGE), pins);
    assertEquals(Map.of("b", BRIDGE), loop.overrides());
    assertEquals(1, endpointsChanged);
    assertEquals(Path.RELAYED, saves.getLast().links().get("b").path());
  }

  @Test
  void healthyDirectLinkSendsNoProbesAndABlackholedOneIsRelayedWithinFiveSeconds() {
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 30, true);
    assertEquals(Path.DIRECT, path());
    assertEquals(0, probesSent, "a link that receives needs no probes");

    Instant blackhole = clock.instant();
    int ticks = 0;
    while (path() == Path.DIRECT && ticks++ < 30) {
      run(loop, 1, false);
    }
    assertEquals(Path.RELAYED, path());
    assertTrue(Duration.between(blackhole, clock.instant()).toSeconds() <= 5,
        "relayed after " + Duration.between(blackhole, clock.instant()));
    assertEquals(BRIDGE, endpoint.orElseThrow());
    assertEquals("direct_silent", selector.current("b").reason());
    assertEquals(new InetSocketAddress(GATEWAY.getAddress(), 51821), probeTargets.getFirst(),
        "a peer that announces no probe port is probed on its WireGuard port + 1");
  }

  @Test
  void probesGoToThePortThePeerAnnounces() {
    peers.put("b", peer("b", 40_000, false));
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 7, false);
    assertEquals(Path.RELAYED, path());
    run(loop, 6, false);
    assertTrue(probesSent > 0);
    assertEquals(List.of(new InetSocketAddress(GATEWAY.getAddress(), 40_000)),
        probeTargets.stream().distinct().toList());
  }

  @Test
  void relayOnlyPeerIsRelayedAtOnceNeverProbedAndStaysOnTheBridgeWhateverWireGuardSees() {
    peers.put("b", peer("b", 0, true));
    endpoint = Optional.empty(); // the reconciler gives a relay-only peer no direct endpoint
    directAnswers = true;
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 1, false);
    assertEquals(Path.RELAYED, path());
    assertEquals(LinkPath.RELAY_ONLY, selector.current("b").reason());
    assertEquals(List.of(BRIDGE), pins);
    assertEquals(Map.of("b", BRIDGE), loop.overrides());

    endpoint = Optional.of(GATEWAY); // the peer's packet arrived directly: WireGuard roamed
    run(loop, 600, true);
    assertEquals(Path.RELAYED, path());
    assertEquals(BRIDGE, endpoint.orElseThrow(), "pinned back to the bridge");
    assertEquals(0, probesSent, "a relay-only link is never probed");
  }

  @Test
  void directLinkTurnedRelayOnlyMovesToTheRelayAndBackToDirectOnlyAfterThePolicyAllowsIt() {
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 5, true);
    assertEquals(Path.DIRECT, path());

    peers.put("b", peer("b", 0, true));
    run(loop, 1, true);
    assertEquals(Path.RELAYED, path());
    assertEquals(BRIDGE, endpoint.orElseThrow());
    assertEquals(Path.RELAYED, saves.getLast().links().get("b").path(), "the switch is persisted");
    directAnswers = true;
    run(loop, 60, true);
    assertEquals(Path.RELAYED, path());
    assertEquals(0, probesSent);

    peers.put("b", peer("b", 0, false));
    Instant allowed = clock.instant();
    int ticks = 0;
    while (path() == Path.RELAYED && ticks++ < 60) {
      run(loop, 1, true);
    }
    assertEquals(Path.DIRECT, path());
    long after = Duration.between(allowed, clock.instant()).toSeconds();
    assertTrue(after >= 10 && after <= 12, "direct after " + after + " s of answered probes");
    assertEquals(GATEWAY, endpoint.orElseThrow());
  }

  @Test
  void relayOnlyPeerIsOnItsBridgeBeforeTheFirstReconcilePassAfterARestart() {
    peers.put("b", peer("b", 0, true));
    PathLoop loop = loop(SavedPaths.EMPTY);
    loop.restore();
    assertEquals(Map.of("b", BRIDGE), loop.overrides());
    assertEquals(Path.RELAYED, path());
  }

  @Test
  void thePeersHomeRelayIsConnectedWhenTheDirectLinkTurnsSuspectNotBefore() {
    relayUp = false;
    connectsOnDemand = true;
    PathLoop loop = loop(new SavedPaths(RELAYS,
        Map.of("b", new SavedPaths.Link(Path.DIRECT, clock.instant(), Duration.ofSeconds(5)))));
    run(loop, 30, true);
    assertEquals(List.of(), connected, "a healthy direct link needs no relay connection");
    int ticks = 0;
    while (path() == Path.DIRECT && ticks++ < 30) {
      run(loop, 1, false);
    }
    assertEquals(List.of("b"), connected);
    assertEquals(Path.RELAYED, path());
    assertTrue(ticks <= 5, ticks + " s");
  }

  @Test
  void unreachableRelayLeavesADirectLinkAlone() {
    relayUp = false;
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 2, true);
    run(loop, 30, false);
    assertEquals(Path.DIRECT, path());
    assertEquals(List.of(), pins);
    assertTrue(selector.current("b").misses() >= 3, "the silence is still seen (status shows the link down)");
  }

  @Test
  void relayedLinkIsRepinnedWhenWireGuardRoamsAndGoesDirectOnlyAfterTenSecondsOfAnsweredProbes() {
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 7, false);
    assertEquals(Path.RELAYED, path());

    // The peer's packet from its gateway (one way only): WireGuard roams, the loop pins the bridge back.
    endpoint = Optional.of(GATEWAY);
    run(loop, 3, true);
    assertEquals(Path.RELAYED, path());
    assertEquals(BRIDGE, endpoint.orElseThrow());

    directAnswers = true;
    Instant answering = clock.instant();
    int ticks = 0;
    while (path() == Path.RELAYED && ticks++ < 300) {
      run(loop, 1, true);
    }
    assertEquals(Path.DIRECT, path());
    assertTrue(Duration.between(answering, clock.instant()).toSeconds() >= 10);
    assertEquals(GATEWAY, endpoint.orElseThrow());
    assertEquals(Map.of(), loop.overrides());
  }

  @Test
  void relayedPeerAfterWireGuardRoamedToOurBridgeIsFollowed() {
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 30, true);
    sockets.put("b", BRIDGE); // opened by the peer's first relayed datagram
    endpoint = Optional.of(BRIDGE);
    run(loop, 1, true);
    assertEquals(Path.RELAYED, path());
    assertEquals("peer_relayed", selector.current("b").reason());
  }

  @Test
  void peerThatRelaysBeforeOurRelayConnectionIsUpIsFollowedOnceItIs() {
    PathLoop loop = loop(new SavedPaths(RELAYS,
        Map.of("b", new SavedPaths.Link(Path.DIRECT, clock.instant(), Duration.ofSeconds(5)))));
    relayUp = false;
    connectsOnDemand = true;
    run(loop, 5, true);
    sockets.put("b", BRIDGE); // the peer's first relayed datagram opened it; WireGuard roamed to it
    endpoint = Optional.of(BRIDGE);
    run(loop, 1, true);
    assertEquals(BRIDGE, endpoint.orElseThrow(), "not pinned back to a direct path the peer cannot use");
    assertEquals(List.of("b"), connected, "connects to the peer's home relay");
    run(loop, 1, true);
    assertEquals(Path.RELAYED, path());
  }

  @Test
  void restartPutsARelayedLinkBackOnTheRelayBeforeTheFirstTick() {
    SavedPaths saved = new SavedPaths(RELAYS,
        Map.of("b", new SavedPaths.Link(Path.RELAYED, clock.instant().minusSeconds(60), Duration.ofSeconds(20))));
    PathLoop loop = loop(saved);
    loop.restore();
    assertEquals(Map.of("b", BRIDGE), loop.overrides(), "the first reconcile pass already uses the bridge");

    run(loop, 3, true);
    assertEquals(Path.RELAYED, path());
    assertEquals("restored", selector.current("b").reason());
  }

  @Test
  void departedPeerIsForgottenAndItsBridgeSocketClosed() {
    PathLoop loop = loop(SavedPaths.EMPTY);
    run(loop, 7, false);
    peers.remove("b");
    run(loop, 1, false);
    assertEquals(List.of("b"), closed);
    assertEquals(Map.of(), loop.overrides());
    assertFalse(selector.all().containsKey("b"));
  }
}
