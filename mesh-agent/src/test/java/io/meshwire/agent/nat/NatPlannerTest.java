package io.meshwire.agent.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.TestStates;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The NETMAP rules of cluster east (pods 10.244.0.0/16 and fd00:10::/64) towards peer west: one
 * table; each row gives west's pod CIDRs, east's view of west, west's view of east, and the rules.
 */
class NatPlannerTest {

  private static final List<Cidr> MINE = List.of(Cidr.parse("10.244.0.0/16"), Cidr.parse("fd00:10::/64"));

  private static List<View.Mapping> mappings(String text) {
    List<View.Mapping> out = new ArrayList<>();
    for (String m : text.split(" ")) {
      if (!m.isBlank()) {
        out.add(new View.Mapping(Cidr.parse(m.split(">")[0]), Cidr.parse(m.split(">")[1])));
      }
    }
    return out;
  }

  /** {@code "S saddr daddr to; D saddr daddr to"} for peer west on mw0. */
  private static List<NatRule> rules(String text) {
    List<NatRule> out = new ArrayList<>();
    for (String r : text.split(";")) {
      String[] f = r.trim().split("\\s+");
      if (f.length < 4) {
        continue;
      }
      Cidr s = Cidr.parse(f[1]);
      Cidr d = Cidr.parse(f[2]);
      Cidr to = Cidr.parse(f[3]);
      out.add(f[0].equals("S") ? new NatRule.Snat("west", "mw0", s, d, to) : new NatRule.Dnat("west", "mw0", s, d, to));
    }
    return out.stream().sorted(NatRule.ORDER).toList();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
    // case | west pods | my view of west (- none) | west's view of me (- none) | excluded | rules
    "both remapped: SNAT into how west sees us, DNAT back | 10.244.0.0/16 | 10.244.0.0/16>10.1.0.0/16 | 10.244.0.0/16>10.0.0.0/16 | false"
        + " | S 10.244.0.0/16 10.1.0.0/16 10.0.0.0/16; D 10.1.0.0/16 10.0.0.0/16 10.244.0.0/16",
    "west sees us remapped, we see west as itself | 10.7.0.0/16 | 10.7.0.0/16>10.7.0.0/16 | 10.244.0.0/16>10.0.0.0/16 | false"
        + " | S 10.244.0.0/16 10.7.0.0/16 10.0.0.0/16; D 10.7.0.0/16 10.0.0.0/16 10.244.0.0/16",
    "only we remap west: west translates, we do nothing | 10.244.0.0/16 | 10.244.0.0/16>10.1.0.0/16 | 10.244.0.0/16>10.244.0.0/16 | false | ''",
    "no view of us from west: seen as ourselves | 10.244.0.0/16 | 10.244.0.0/16>10.1.0.0/16 | - | false | ''",
    "no view of west (not decided): no rules | 10.244.0.0/16 | - | 10.244.0.0/16>10.0.0.0/16 | false | ''",
    "west left out (exhausted): no rules | 10.244.0.0/16 | 10.244.0.0/16>10.1.0.0/16 | 10.244.0.0/16>10.0.0.0/16 | true | ''",
    "a view of us of the wrong size is ignored | 10.244.0.0/16 | 10.244.0.0/16>10.1.0.0/16 | 10.244.0.0/16>10.0.0.0/24 | false | ''",
    "two pod CIDRs of west: a rule pair per CIDR | 10.244.0.0/16 10.8.0.0/16 | 10.244.0.0/16>10.1.0.0/16 10.8.0.0/16>10.8.0.0/16"
        + " | 10.244.0.0/16>10.0.0.0/16 | false"
        + " | S 10.244.0.0/16 10.1.0.0/16 10.0.0.0/16; S 10.244.0.0/16 10.8.0.0/16 10.0.0.0/16;"
        + " D 10.1.0.0/16 10.0.0.0/16 10.244.0.0/16; D 10.8.0.0/16 10.0.0.0/16 10.244.0.0/16",
    "dual stack: each family on its own | 10.244.0.0/16 fd00:10::/64 | 10.244.0.0/16>10.1.0.0/16 fd00:10::/64>fd99:1::/64"
        + " | 10.244.0.0/16>10.0.0.0/16 fd00:10::/64>fd99::/64 | false"
        + " | S 10.244.0.0/16 10.1.0.0/16 10.0.0.0/16; D 10.1.0.0/16 10.0.0.0/16 10.244.0.0/16;"
        + " S fd00:10::/64 fd99:1::/64 fd99::/64; D fd99:1::/64 fd99::/64 fd00:10::/64",
  })
  void plansNetmapRulesPerPeer(String name, String westPods, String myView, String viewOfMe, boolean excluded,
      String expected) {
    PeerRecord base = TestStates.peer("west", 2);
    PeerRecord west = new PeerRecord("west", base.wireguardPublicKey(), 51820, base.gatewayEndpoints(),
        Arrays.stream(westPods.split(" ")).map(Cidr::parse).toList(), List.of(), Optional.empty(), Map.of(), 1, 1);
    Map<String, View> myViews = new HashMap<>();
    if (myView != null) {
      myViews.put("west", new View("east", "west", mappings(myView), 4));
    }
    Map<String, View> viewsOfMe = new HashMap<>();
    if (viewOfMe != null) {
      viewsOfMe.put("west", new View("west", "east", mappings(viewOfMe), 9));
    }
    AgentState state = TestStates.state("m", 1, west).withMyViews(myViews).withViewsOfMe(viewsOfMe);

    List<NatRule> planned = NatPlanner.plan("mw0", MINE, state, excluded ? Set.of("west") : Set.of());

    assertEquals(rules(expected), planned);
  }
}
