package io.meshwire.agent.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.Cidr;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The filter table's script and its read-back from nft's JSON (as nft 1.0.6 prints it), without a kernel. */
class TunnelSourceFilterTest {

  private static final String AS_WRITTEN = """
      {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
      {"table": {"family": "inet", "name": "meshwire_filter", "handle": 2}},
      {"set": {"family": "inet", "name": "allowed4", "table": "meshwire_filter", "type": "ipv4_addr", "handle": 2,
        "flags": ["interval"], "elem": [{"prefix": {"addr": "10.1.0.0", "len": 16}}, "10.9.0.7"]}},
      {"set": {"family": "inet", "name": "allowed6", "table": "meshwire_filter", "type": "ipv6_addr", "handle": 3,
        "flags": ["interval"]}},
      {"chain": {"family": "inet", "table": "meshwire_filter", "name": "tunnel_in", "handle": 1, "type": "filter",
        "hook": "prerouting", "prio": -300, "policy": "accept"}},
      {"rule": {"family": "inet", "table": "meshwire_filter", "chain": "tunnel_in", "handle": 4,
        "comment": "allow: current peers (ipv4)", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}},
        "right": "mw0"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
        "right": "@allowed4"}}, {"accept": null}]}},
      {"rule": {"family": "inet", "table": "meshwire_filter", "chain": "tunnel_in", "handle": 5,
        "comment": "allow: current peers (ipv6)", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}},
        "right": "mw0"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}},
        "right": "@allowed6"}}, {"accept": null}]}},
      {"rule": {"family": "inet", "table": "meshwire_filter", "chain": "tunnel_in", "handle": 6,
        "comment": "drop: not a current peer", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}},
        "right": "mw0"}}, {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}}]}
      """;

  @Test
  void readsBackWhatItWrites() {
    assertEquals(new TunnelSourceFilter.Table(true, Optional.of("mw0"),
        Set.of(Cidr.parse("10.1.0.0/16"), Cidr.parse("10.9.0.7/32")), true), TunnelSourceFilter.parse(AS_WRITTEN));
  }

  @Test
  void aMissingDropRuleOrAForeignRuleIsNotAsWritten() {
    String noDrop = AS_WRITTEN.substring(0, AS_WRITTEN.lastIndexOf(",\n{\"rule\"")) + "]}";
    assertFalse(TunnelSourceFilter.parse(noDrop).asWritten());
    String foreign = AS_WRITTEN.replace("]}\n", ",\n{\"rule\": {\"family\": \"inet\", \"table\": \"meshwire_filter\","
        + " \"chain\": \"tunnel_in\", \"handle\": 9, \"expr\": [{\"accept\": null}]}}]}\n");
    assertFalse(TunnelSourceFilter.parse(foreign).asWritten());
    String range = AS_WRITTEN.replace("\"10.9.0.7\"", "{\"range\": [\"10.9.0.7\", \"10.9.0.9\"]}");
    assertFalse(TunnelSourceFilter.parse(range).asWritten(), "a range is never written by the agent");
  }

  @Test
  void scriptReplacesTheTableWithSetsPerFamilyAndDropsTheRestOnTheInterface() {
    String script = TunnelSourceFilter.script("meshwire_filter", "mw0",
        TunnelSourceFilter.canonical(List.of(Cidr.parse("10.1.0.0/16"), Cidr.parse("fd00:1::/64"))));
    assertTrue(script.startsWith("add table inet meshwire_filter\ndelete table inet meshwire_filter\n"), script);
    assertTrue(script.contains("elements = { 10.1.0.0/16 }"), script);
    assertTrue(script.contains("elements = { fd00:1::/64 }"), script);
    assertTrue(script.contains("type filter hook prerouting priority raw; policy accept;"), script);
    assertTrue(script.contains("iifname \"mw0\" counter drop"), script);
    assertFalse(TunnelSourceFilter.script("meshwire_filter", "mw0", Set.of()).contains("elements"),
        "an empty set has no elements line (nft refuses an empty one)");
    assertThrows(IllegalArgumentException.class, () -> TunnelSourceFilter.script("t", "mw0\"; flush ruleset", Set.of()));
  }

  @Test
  void canonicalSourcesLeaveOutWhatAnotherContains() {
    assertEquals(Set.of(Cidr.parse("10.1.0.0/16"), Cidr.parse("10.2.0.0/24"), Cidr.parse("fd00::/64")),
        TunnelSourceFilter.canonical(List.of(Cidr.parse("10.1.7.0/24"), Cidr.parse("10.1.0.0/16"),
            Cidr.parse("10.2.0.0/24"), Cidr.parse("10.2.0.0/24"), Cidr.parse("fd00::/64"))));
  }
}
