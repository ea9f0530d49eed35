package io.meshwire.agent.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.netaddr.Cidr;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What to do with the NAT tables, per family: one table of cases. */
class NatDiffTest {

  private static final NatRule A = new NatRule.Snat("west", "mw0", Cidr.parse("10.244.0.0/16"),
      Cidr.parse("10.1.0.0/16"), Cidr.parse("10.0.0.0/16"));
  private static final NatRule B = new NatRule.Dnat("west", "mw0", Cidr.parse("10.1.0.0/16"),
      Cidr.parse("10.0.0.0/16"), Cidr.parse("10.244.0.0/16"));
  private static final NatRule C = new NatRule.Snat("north", "mw0", Cidr.parse("10.244.0.0/16"),
      Cidr.parse("10.2.0.0/16"), Cidr.parse("10.0.0.0/16"));
  private static final NatRule V6 = new NatRule.Snat("west", "mw0", Cidr.parse("fd00:1::/64"),
      Cidr.parse("fd00:2::/64"), Cidr.parse("fd00:3::/64"));

  private static NatTable v4(NatRule... rules) {
    return new NatTable(NatFamily.IPV4, true, List.of(rules), List.of());
  }

  static Stream<Arguments> cases() {
    NatTable absent4 = NatTable.absent(NatFamily.IPV4);
    return Stream.of(
        Arguments.of("nothing wanted, nothing there", List.of(), Map.of(NatFamily.IPV4, absent4), List.of()),
        Arguments.of("rules wanted, no table: write it", List.of(A, B), Map.of(NatFamily.IPV4, absent4),
            List.of(new NatChange.WriteTable(NatFamily.IPV4, List.of(B, A), List.of(B, A), List.of()))),
        Arguments.of("the same rules in another order: nothing", List.of(A, B), Map.of(NatFamily.IPV4, v4(B, A)),
            List.of()),
        Arguments.of("one more peer: rewrite, naming the addition", List.of(A, B, C), Map.of(NatFamily.IPV4, v4(A, B)),
            List.of(new NatChange.WriteTable(NatFamily.IPV4, List.of(B, C, A), List.of(C), List.of()))),
        Arguments.of("a peer gone: rewrite, naming the removal", List.of(A, B), Map.of(NatFamily.IPV4, v4(A, B, C)),
            List.of(new NatChange.WriteTable(NatFamily.IPV4, List.of(B, A), List.of(), List.of(C)))),
        Arguments.of("a rule twice (added by hand): rewrite", List.of(A), Map.of(NatFamily.IPV4, v4(A, A)),
            List.of(new NatChange.WriteTable(NatFamily.IPV4, List.of(A), List.of(), List.of()))),
        Arguments.of("something foreign in the table: rewrite", List.of(A),
            Map.of(NatFamily.IPV4, new NatTable(NatFamily.IPV4, true, List.of(A), List.of("rule accept"))),
            List.of(new NatChange.WriteTable(NatFamily.IPV4, List.of(A), List.of(), List.of()))),
        Arguments.of("no rule needed any more: delete the table", List.of(), Map.of(NatFamily.IPV4, v4(A)),
            List.of(new NatChange.DeleteTable(NatFamily.IPV4))),
        Arguments.of("an empty table left behind: delete it", List.of(), Map.of(NatFamily.IPV4, v4()),
            List.of(new NatChange.DeleteTable(NatFamily.IPV4))),
        Arguments.of("families apart: v6 written, v4 deleted", List.of(V6), Map.of(NatFamily.IPV4, v4(A)),
            List.of(new NatChange.DeleteTable(NatFamily.IPV4),
                new NatChange.WriteTable(NatFamily.IPV6, List.of(V6), List.of(V6), List.of()))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void diffsPerFamily(String name, List<NatRule> desired, Map<NatFamily, NatTable> actual, List<NatChange> expected) {
    assertEquals(expected, NatDiff.diff(desired, actual));
  }
}
