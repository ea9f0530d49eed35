package io.meshwire.agent.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The IPAM's decisions: one table of first decisions, then stability, release, exhaustion and generations. */
class IpamTest {

  private static final String SELF = "east";
  private static final long NOW = 1_750_000_000_000L;

  private static List<Cidr> cidrs(String... texts) {
    return Arrays.stream(texts).filter(t -> !t.isBlank()).map(Cidr::parse).toList();
  }

  private static IpamSettings settings(String pods, String services, String reserved, String pools) {
    return new IpamSettings(cidrs(pods.split(" ")), cidrs(services.split(" ")), cidrs(reserved.split(" ")),
        cidrs(pools.split(" ")));
  }

  /** The pools most examples here cut blocks from (the defaults before CGNAT; easy to read). */
  private static final List<Cidr> RFC1918 = cidrs("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16");

  /** Own 10.244.0.0/16 pods, 10.96.0.0/12 services, nothing reserved, the RFC 1918 pools. */
  private static IpamSettings defaults() {
    return new IpamSettings(cidrs("10.244.0.0/16"), cidrs("10.96.0.0/12"), List.of(), RFC1918);
  }

  private static PeerRecord peer(String id, String... podCidrs) {
    PeerRecord base = TestStates.peer(id, 2);
    return new PeerRecord(id, base.wireguardPublicKey(), 51820, base.gatewayEndpoints(), cidrs(podCidrs),
        List.of(), Optional.empty(), Map.of(), 1, 1);
  }

  /** Peers by ID from {@code "id=cidr,cidr"} entries. */
  private static Map<String, PeerRecord> peers(String... entries) {
    Map<String, PeerRecord> out = new LinkedHashMap<>();
    for (String e : entries) {
      String[] kv = e.split("=");
      out.put(kv[0], peer(kv[0], kv[1].split(",")));
    }
    return out;
  }

  /** What the allocation says about each peer: "cidr>seen,cidr>seen" or "EXHAUSTED". */
  private static Map<String, String> summary(Allocation a) {
    Map<String, String> out = new LinkedHashMap<>();
    a.decisions().forEach((peer, d) -> out.put(peer, d instanceof PeerDecision.Exhausted ? "EXHAUSTED"
        : String.join(",", a.views().get(peer).mappings().stream().map(m -> m.original() + ">" + m.seenAs()).toList())));
    return out;
  }

  private static Map<String, String> expect(String... entries) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String e : entries) {
      out.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
    }
    return out;
  }

  static Stream<Arguments> firstDecisions() {
    return Stream.of(
        Arguments.of("no overlap: seen as itself", defaults(), peers("west=10.1.0.0/16"),
            expect("west=10.1.0.0/16>10.1.0.0/16")),
        Arguments.of("same pod CIDR as mine: first free /16 of the first pool", defaults(),
            peers("west=10.244.0.0/16"), expect("west=10.244.0.0/16>10.0.0.0/16")),
        Arguments.of("inside my service CIDR: remapped, the pool skips the service range",
            settings("10.0.0.0/16", "10.96.0.0/12", "", "10.0.0.0/8"), peers("west=10.100.0.0/16"),
            expect("west=10.100.0.0/16>10.1.0.0/16")),
        Arguments.of("overlapping a reserved range: remapped",
            settings("10.244.0.0/16", "", "10.50.0.0/16", "10.0.0.0/8"), peers("west=10.50.0.0/24"),
            expect("west=10.50.0.0/24>10.0.0.0/24")),
        Arguments.of("two peers with the same CIDR: the first by ID is itself, the second remapped", defaults(),
            peers("west=10.1.0.0/16", "north=10.1.0.0/16"),
            expect("north=10.1.0.0/16>10.1.0.0/16", "west=10.1.0.0/16>10.0.0.0/16")),
        Arguments.of("a peer seen as itself is not handed out from the pool", defaults(),
            peers("a=10.0.0.0/16", "b=10.244.0.0/16"),
            expect("a=10.0.0.0/16>10.0.0.0/16", "b=10.244.0.0/16>10.1.0.0/16")),
        Arguments.of("a CIDR that contains mine: same-size block from the pool",
            settings("10.244.0.0/16", "", "", "10.0.0.0/8 172.16.0.0/12"), peers("west=10.128.0.0/9"),
            expect("west=10.128.0.0/9>10.0.0.0/9")),
        Arguments.of("first pool full: the next pool",
            settings("10.0.0.0/9", "10.128.0.0/9", "", "10.0.0.0/8 172.16.0.0/12"), peers("west=10.0.0.0/16"),
            expect("west=10.0.0.0/16>172.16.0.0/16")),
        Arguments.of("only a pool of the right family counts",
            settings("10.244.0.0/16", "", "", "fd99::/48 192.168.0.0/16"), peers("west=10.244.0.0/16"),
            expect("west=10.244.0.0/16>192.168.0.0/16")),
        Arguments.of("one of two CIDRs remapped, the other itself", defaults(),
            peers("west=10.1.0.0/16,10.244.0.0/16"),
            expect("west=10.1.0.0/16>10.1.0.0/16,10.244.0.0/16>10.0.0.0/16")),
        Arguments.of("IPv6 overlap with an IPv6 pool",
            settings("fd00:10::/64 10.244.0.0/16", "", "", "10.0.0.0/8 fd99::/48"),
            peers("west=fd00:10::/64,10.244.0.0/16"),
            expect("west=fd00:10::/64>fd99::/64,10.244.0.0/16>10.0.0.0/16")),
        Arguments.of("IPv6 without overlap needs no pool",
            settings("fd00:10::/64", "", "", "10.0.0.0/8"), peers("west=fd00:20::/64"),
            expect("west=fd00:20::/64>fd00:20::/64")),
        Arguments.of("IPv6 overlap without an IPv6 pool: exhausted",
            settings("fd00:10::/64", "", "", "10.0.0.0/8"), peers("west=fd00:10::/64"),
            expect("west=EXHAUSTED")),
        Arguments.of("pool smaller than the CIDR: exhausted, the other peer unaffected",
            settings("10.244.0.0/16", "", "", "192.168.0.0/16"), peers("big=10.0.0.0/8", "west=10.244.0.0/16"),
            expect("big=EXHAUSTED", "west=10.244.0.0/16>192.168.0.0/16")),
        Arguments.of("pool used up by earlier peers: the last one is exhausted",
            settings("10.244.0.0/16", "", "", "192.168.0.0/17"),
            peers("a=10.244.0.0/16", "b=10.244.0.0/17", "c=10.244.0.0/17", "d=10.244.0.0/17"),
            expect("a=EXHAUSTED", "b=10.244.0.0/17>192.168.0.0/17", "c=EXHAUSTED", "d=EXHAUSTED")),
        Arguments.of("exhausted peer releases its other blocks",
            settings("10.244.0.0/16 fd00::/64", "", "", "192.168.0.0/16"),
            peers("a=10.244.0.0/16,fd00::/64", "b=10.244.0.0/16"),
            expect("a=EXHAUSTED", "b=10.244.0.0/16>192.168.0.0/16")),
        Arguments.of("no pools: remapping off, overlapping peers left out, others fine",
            settings("10.244.0.0/16", "", "", ""), peers("a=10.244.0.0/16", "b=10.1.0.0/16"),
            expect("a=EXHAUSTED", "b=10.1.0.0/16>10.1.0.0/16")),
        Arguments.of("a peer without pod CIDRs gets an empty view", defaults(),
            Map.of("a", peer("a")), expect("a=")),
        Arguments.of("this cluster listed among peers is ignored", defaults(), peers(SELF + "=10.1.0.0/16"),
            expect()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("firstDecisions")
  void decidesFromScratch(String name, IpamSettings settings, Map<String, PeerRecord> peers,
      Map<String, String> expected) {
    Allocation a = Ipam.allocate(settings, SELF, peers, Map.of(), NOW);

    assertEquals(expected, summary(a));
    a.views().values().forEach(v -> {
      assertEquals(SELF, v.observerClusterId());
      assertEquals(NOW, v.generation());
    });
  }

  @Test
  void exhaustionIsNamedWithTheConflictAndThePool() {
    Allocation a = Ipam.allocate(settings("fd00:10::/64", "", "", "10.0.0.0/8"), SELF, peers("west=fd00:10::/64"),
        Map.of(), NOW);
    PeerDecision.Exhausted e = assertInstanceOf(PeerDecision.Exhausted.class, a.decisions().get("west"));
    assertEquals("pod CIDR fd00:10::/64 overlaps own pod CIDR fd00:10::/64 and remap-pools have no IPv6 range",
        e.reason());
    assertEquals(java.util.Set.of("west"), a.exhausted());
    assertEquals(Map.of(), a.views());

    Allocation full = Ipam.allocate(settings("10.244.0.0/16", "", "", "192.168.0.0/17"), SELF,
        peers("a=10.244.0.0/16"), Map.of(), NOW);
    assertEquals("pod CIDR 10.244.0.0/16 overlaps own pod CIDR 10.244.0.0/16 and remap-pools have no free /16 block",
        full.decisions().get("a").describe());
  }

  @Test
  void anUnchangedDecisionKeepsItsViewAndGeneration() {
    Allocation first = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16", "north=10.1.0.0/16"), Map.of(), NOW);
    Allocation again = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16", "north=10.1.0.0/16"),
        first.views(), NOW + 5000);

    assertEquals(first.views(), again.views());
    assertSame(first.views().get("west"), again.views().get("west"));
  }

  @Test
  void keptDecisionsWinOverANewcomerThatSortsFirst() {
    // "west" was seen as itself; "a" (sorting first) joins with the same CIDR: "a" is remapped.
    Allocation before = Ipam.allocate(defaults(), SELF, peers("west=10.1.0.0/16"), Map.of(), NOW);
    Allocation after = Ipam.allocate(defaults(), SELF, peers("west=10.1.0.0/16", "a=10.1.0.0/16"), before.views(),
        NOW + 1);

    assertEquals(expect("a=10.1.0.0/16>10.0.0.0/16", "west=10.1.0.0/16>10.1.0.0/16"), summary(after));
    assertSame(before.views().get("west"), after.views().get("west"));
  }

  @Test
  void aPeerRemappedOntoANewcomersRealCidrMovesAndTheNewcomerIsSeenAsItself() {
    // west was seen as 10.0.0.0/16; then a, which really uses 10.0.0.0/16, joins. Keeping west's view
    // would make a's real addresses mean west here (and a remapped itself, depending on join order).
    Allocation before = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16"), Map.of(), NOW);
    assertEquals("10.244.0.0/16>10.0.0.0/16", summary(before).get("west"));

    Allocation after = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16", "a=10.0.0.0/16"), before.views(),
        NOW + 1);

    assertEquals(expect("a=10.0.0.0/16>10.0.0.0/16", "west=10.244.0.0/16>10.1.0.0/16"), summary(after));
    assertEquals(NOW + 1, after.views().get("west").generation(), "west's view re-decided");
  }

  @Test
  void noRemappedBlockOverlapsAnyMembersAnnouncedPodOrServiceCidr() {
    PeerRecord north = new PeerRecord("north", TestStates.peer("north", 3).wireguardPublicKey(), 51820,
        List.of(), cidrs("10.244.0.0/16"), cidrs("10.0.0.0/16"), Optional.empty(), Map.of(), 1, 1);
    Map<String, PeerRecord> members = new LinkedHashMap<>(peers("west=10.244.0.0/16", "south=10.1.0.0/16"));
    members.put("north", north);

    Allocation a = Ipam.allocate(defaults(), SELF, members, Map.of(), NOW);

    // 10.0.0.0/16 is north's service CIDR and 10.1.0.0/16 south's pods: the first free block is 10.2.0.0/16.
    assertEquals(expect("north=10.244.0.0/16>10.2.0.0/16", "south=10.1.0.0/16>10.1.0.0/16",
        "west=10.244.0.0/16>10.3.0.0/16"), summary(a));
  }

  @Test
  void theDefaultPoolsAreCgnatThenAnIpv6UniqueLocalRange() {
    IpamSettings settings = new IpamSettings(cidrs("10.244.0.0/16", "fd00:10::/64"), cidrs("10.96.0.0/12"),
        List.of(), IpamSettings.DEFAULT_POOLS);
    Allocation a = Ipam.allocate(settings, SELF, peers("west=10.244.0.0/16,fd00:10::/64"), Map.of(), NOW);
    assertEquals(expect("west=10.244.0.0/16>100.64.0.0/16,fd00:10::/64>fd6d:7769:7265::/64"), summary(a));
  }

  @Test
  void aRemapIsKeptWhenItsConflictIsGoneButRedecidedWhenItConflicts() {
    Allocation before = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16", "north=10.244.0.0/16"),
        Map.of(), NOW);
    assertEquals(expect("north=10.244.0.0/16>10.0.0.0/16", "west=10.244.0.0/16>10.1.0.0/16"), summary(before));

    // This cluster moves its pods away from 10.244/16: nothing conflicts any more, still both keep their block.
    IpamSettings moved = new IpamSettings(cidrs("10.245.0.0/16"), cidrs("10.96.0.0/12"), List.of(),
        RFC1918);
    Allocation kept = Ipam.allocate(moved, SELF, peers("west=10.244.0.0/16", "north=10.244.0.0/16"), before.views(),
        NOW + 1);
    assertEquals(before.views(), kept.views());

    // Back on 10.244/16, an operator reserves 10.1.0.0/16, west's block: only west is re-decided, with a new
    // generation.
    IpamSettings reserved = new IpamSettings(cidrs("10.244.0.0/16"), cidrs("10.96.0.0/12"), cidrs("10.1.0.0/16"),
        RFC1918);
    Allocation redecided = Ipam.allocate(reserved, SELF, peers("west=10.244.0.0/16", "north=10.244.0.0/16"),
        kept.views(), NOW + 2);
    assertEquals(expect("north=10.244.0.0/16>10.0.0.0/16", "west=10.244.0.0/16>10.2.0.0/16"), summary(redecided));
    assertSame(kept.views().get("north"), redecided.views().get("north"));
    assertEquals(NOW + 2, redecided.views().get("west").generation());

    // With the reservation and pods on 10.245/16, west's CIDR conflicts with nothing: seen as itself again.
    IpamSettings both = new IpamSettings(cidrs("10.245.0.0/16"), cidrs("10.96.0.0/12"), cidrs("10.2.0.0/16"),
        RFC1918);
    Allocation itself = Ipam.allocate(both, SELF, peers("west=10.244.0.0/16", "north=10.244.0.0/16"),
        redecided.views(), NOW + 3);
    assertEquals(expect("north=10.244.0.0/16>10.0.0.0/16", "west=10.244.0.0/16>10.244.0.0/16"), summary(itself));
  }

  @Test
  void aBlockOutsideTheNewPoolsIsRedecided() {
    Allocation before = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16"), Map.of(), NOW);
    IpamSettings other = new IpamSettings(cidrs("10.244.0.0/16"), List.of(), List.of(), cidrs("172.16.0.0/12"));

    Allocation after = Ipam.allocate(other, SELF, peers("west=10.244.0.0/16"), before.views(), NOW + 1);

    assertEquals("10.244.0.0/16>172.16.0.0/16", summary(after).get("west"));
  }

  @Test
  void aLeavingPeerReleasesItsBlockForTheNextOne() {
    Allocation before = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16"), Map.of(), NOW);
    assertEquals("10.244.0.0/16>10.0.0.0/16", summary(before).get("west"));

    Allocation left = Ipam.allocate(defaults(), SELF, Map.of(), before.views(), NOW + 1);
    assertEquals(Map.of(), left.views());

    Allocation next = Ipam.allocate(defaults(), SELF, peers("north=10.244.0.0/16"), left.views(), NOW + 2);
    assertEquals("10.244.0.0/16>10.0.0.0/16", summary(next).get("north"));
  }

  @Test
  void anExhaustedPeerRecoversWhenRoomAppears() {
    IpamSettings tiny = settings("10.244.0.0/16", "", "", "192.168.0.0/16");
    Allocation full = Ipam.allocate(tiny, SELF, peers("a=10.244.0.0/16", "b=10.244.0.0/16"), Map.of(), NOW);
    assertEquals(expect("a=10.244.0.0/16>192.168.0.0/16", "b=EXHAUSTED"), summary(full));

    Allocation after = Ipam.allocate(tiny, SELF, peers("b=10.244.0.0/16"), full.views(), NOW + 1);
    assertEquals(expect("b=10.244.0.0/16>192.168.0.0/16"), summary(after));
  }

  @Test
  void aChangedViewGetsAGreaterGenerationEvenWithAClockBehind() {
    View old = new View(SELF, "west", List.of(new View.Mapping(Cidr.parse("10.244.0.0/16"),
        Cidr.parse("10.9.0.0/16"))), NOW + 100_000);
    IpamSettings reserved = settings("10.244.0.0/16", "", "10.9.0.0/16", "10.0.0.0/8");

    Allocation a = Ipam.allocate(reserved, SELF, peers("west=10.244.0.0/16"), Map.of("west", old), NOW);

    assertEquals(NOW + 100_001, a.views().get("west").generation());
    assertTrue(Ipam.remaps(a.views().get("west")));
  }

  @Test
  void aPeerThatDroppedACidrLosesItsMappingAndANewCidrIsDecided() {
    Allocation before = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16,10.1.0.0/16"), Map.of(), NOW);
    Allocation after = Ipam.allocate(defaults(), SELF, peers("west=10.244.0.0/16,10.2.0.0/16"), before.views(),
        NOW + 1);
    assertEquals(expect("west=10.244.0.0/16>10.0.0.0/16,10.2.0.0/16>10.2.0.0/16"), summary(after));
  }

  @Test
  void freeBlockSkipsEveryTakenRangeInOneSweep() {
    List<Ipam.Claim> taken = Stream.of("10.0.0.0/16", "10.1.0.0/24", "10.1.128.0/17", "10.3.0.0/16", "10.0.0.0/15")
        .map(c -> new Ipam.Claim(Cidr.parse(c), "", c)).toList();
    assertEquals(Optional.of(Cidr.parse("10.2.0.0/16")), Ipam.freeBlock(Cidr.parse("10.0.0.0/8"), 16, taken));
    assertEquals(Optional.of(Cidr.parse("10.2.0.0/24")), Ipam.freeBlock(Cidr.parse("10.0.0.0/8"), 24, taken));
    assertEquals(Optional.empty(), Ipam.freeBlock(Cidr.parse("10.0.0.0/15"), 16, taken));
    assertEquals(Optional.empty(), Ipam.freeBlock(Cidr.parse("10.0.0.0/16"), 8, List.of()));
    assertEquals(Optional.of(Cidr.parse("fd99::/64")), Ipam.freeBlock(Cidr.parse("fd99::/48"), 64, taken));
  }

  @Test
  void overlappingPoolsAreRefusedNamingBoth() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> settings("10.244.0.0/16", "", "", "10.0.0.0/8 192.168.0.0/16 10.20.0.0/16"));
    assertEquals("remap-pools[2]: 10.20.0.0/16 overlaps remap-pools[0] 10.0.0.0/8", e.getMessage());
  }

  @Test
  void manyPeersOnOneCidrEachGetTheirOwnBlock() {
    Map<String, PeerRecord> many = new LinkedHashMap<>();
    for (int i = 0; i < 250; i++) {
      many.put(String.format("p%03d", i), peer(String.format("p%03d", i), "10.244.0.0/16"));
    }
    Allocation a = Ipam.allocate(defaults(), SELF, many, Map.of(), NOW);

    assertEquals(0, a.exhausted().size());
    List<Cidr> seen = a.views().values().stream().map(v -> v.mappings().get(0).seenAs()).toList();
    assertEquals(250, seen.stream().distinct().count());
    for (int i = 0; i < seen.size(); i++) {
      for (int j = 0; j < i; j++) {
        assertTrue(!seen.get(i).overlaps(seen.get(j)), seen.get(i) + " overlaps " + seen.get(j));
      }
      assertTrue(!seen.get(i).overlaps(Cidr.parse("10.244.0.0/16")) && !seen.get(i).overlaps(Cidr.parse("10.96.0.0/12")));
    }
    // 10/8 holds 256 /16s, minus 10.244/16 and the 16 of 10.96/12: 239; the rest come from 172.16/12.
    assertEquals(239, seen.stream().filter(c -> Cidr.parse("10.0.0.0/8").contains(c)).count());
  }
}
