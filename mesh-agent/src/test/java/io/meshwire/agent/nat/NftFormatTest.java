package io.meshwire.agent.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.Cidr;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The nft script written, and nft 1.0's JSON read back (samples captured from nft 1.0.6). */
class NftFormatTest {

  private static final NatRule SNAT = new NatRule.Snat("west", "mw0", Cidr.parse("10.244.0.0/16"),
      Cidr.parse("10.1.0.0/16"), Cidr.parse("10.0.0.0/16"));
  private static final NatRule DNAT = new NatRule.Dnat("west", "mw0", Cidr.parse("10.1.0.0/16"),
      Cidr.parse("10.0.0.0/16"), Cidr.parse("10.244.0.0/16"));
  private static final NatRule SNAT6 = new NatRule.Snat("west", "mw0", Cidr.parse("fd00:1::/64"),
      Cidr.parse("fd00:2::/64"), Cidr.parse("fd00:3::/64"));

  /** {@code nft -j list table ip meshwire} after writing {@link #SNAT} and {@link #DNAT}. */
  private static final String IPV4 = """
      {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, \
      {"table": {"family": "ip", "name": "meshwire", "handle": 1}}, \
      {"chain": {"family": "ip", "table": "meshwire", "name": "prerouting", "handle": 1, "type": "nat", "hook": "prerouting", "prio": -100, "policy": "accept"}}, \
      {"chain": {"family": "ip", "table": "meshwire", "name": "postrouting", "handle": 2, "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}}, \
      {"rule": {"family": "ip", "table": "meshwire", "chain": "prerouting", "handle": 3, "comment": "peer=west", "expr": [\
      {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "mw0"}}, \
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.1.0.0", "len": 16}}}}, \
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "10.0.0.0", "len": 16}}}}, \
      {"dnat": {"addr": {"prefix": {"addr": "10.244.0.0", "len": 16}}, "flags": "netmap", "type_flags": "prefix"}}]}}, \
      {"rule": {"family": "ip", "table": "meshwire", "chain": "postrouting", "handle": 4, "comment": "peer=west", "expr": [\
      {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "mw0"}}, \
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.244.0.0", "len": 16}}}}, \
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "10.1.0.0", "len": 16}}}}, \
      {"snat": {"addr": {"prefix": {"addr": "10.0.0.0", "len": 16}}, "flags": "netmap", "type_flags": "prefix"}}]}}]}
      """;

  @Test
  void writesBothChainsAndEveryRuleWithItsPeerInOneTransaction() {
    String script = NftFormat.script("meshwire", List.of(
        new NatChange.WriteTable(NatFamily.IPV4, List.of(DNAT, SNAT), List.of(DNAT, SNAT), List.of()),
        new NatChange.DeleteTable(NatFamily.IPV6)));

    assertEquals("""
        add table ip meshwire
        delete table ip meshwire
        table ip meshwire {
          chain prerouting {
            type nat hook prerouting priority dstnat; policy accept;
            iifname "mw0" ip saddr 10.1.0.0/16 ip daddr 10.0.0.0/16 dnat ip prefix to 10.244.0.0/16 comment "peer=west"
          }
          chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
            oifname "mw0" ip saddr 10.244.0.0/16 ip daddr 10.1.0.0/16 snat ip prefix to 10.0.0.0/16 comment "peer=west"
          }
        }
        add table ip6 meshwire
        delete table ip6 meshwire
        """, script);
    assertEquals("oifname \"mw0\" ip6 saddr fd00:1::/64 ip6 daddr fd00:2::/64 snat ip6 prefix to fd00:3::/64 "
        + "comment \"peer=west\"", NftFormat.rule(SNAT6));
  }

  @Test
  void readsBackWhatItWrote() {
    NatTable table = NftFormat.parse(NatFamily.IPV4, IPV4);

    assertTrue(table.present());
    assertEquals(List.of(DNAT, SNAT), table.rules());
    assertEquals(List.of(), table.foreign());
  }

  @Test
  void aSingleAddressIsReadAsASlash32() {
    String json = IPV4.replace("{\"prefix\": {\"addr\": \"10.1.0.0\", \"len\": 16}}", "\"10.1.0.7\"")
        .replace("{\"prefix\": {\"addr\": \"10.0.0.0\", \"len\": 16}}", "\"10.0.0.9\"")
        .replace("{\"prefix\": {\"addr\": \"10.244.0.0\", \"len\": 16}}", "\"10.244.0.1\"");
    NatTable table = NftFormat.parse(NatFamily.IPV4, json);

    assertEquals(new NatRule.Dnat("west", "mw0", Cidr.parse("10.1.0.7/32"), Cidr.parse("10.0.0.9/32"),
        Cidr.parse("10.244.0.1/32")), table.rules().get(0));
  }

  @Test
  void rulesAndChainsChangedByHandAreForeign() {
    String tampered = IPV4.replace("\"policy\": \"accept\"}}, \n", "\"policy\": \"drop\"}}, \n")
        .replace("\"comment\": \"peer=west\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"oifname\"}}",
            "\"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"oifname\"}}");
    NatTable table = NftFormat.parse(NatFamily.IPV4, tampered.replace("\"policy\": \"accept\"", "\"policy\": \"drop\""));

    assertEquals(List.of(DNAT), table.rules());
    assertEquals(3, table.foreign().size(), table.foreign().toString()); // two chains with policy drop, one rule
    assertFalse(table.foreign().get(2).isEmpty());
  }

  @Test
  void anEmptyTableHasNoChainsAndSaysSo() {
    NatTable table = NftFormat.parse(NatFamily.IPV6, """
        {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "ip6", "name": "meshwire", "handle": 3}}]}
        """);
    assertTrue(table.present());
    assertEquals(List.of("chains [] instead of [prerouting, postrouting]"), table.foreign());
  }

  @Test
  void somethingThatIsNotNftJsonIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> NftFormat.parse(NatFamily.IPV4, "Error: no such table"));
    assertThrows(IllegalArgumentException.class, () -> NftFormat.parse(NatFamily.IPV4, "{\"other\": []}"));
  }
}
