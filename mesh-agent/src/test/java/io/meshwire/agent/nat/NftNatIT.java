package io.meshwire.agent.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.agent.exec.NamespacedCommandRunner;
import io.meshwire.agent.exec.ProcessCommandRunner;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netlab.netns.NetworkNamespaces;
import io.meshwire.testsupport.netns.Requirements;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nft driver against a real kernel, in a namespace of its own: create, read back, diff, repair
 * drift, leave other tables alone, and clean up. Needs root and nft; skips without them unless
 * {@code MESHWIRE_E2E_REQUIRED=1}.
 */
class NftNatIT {

  private static final Duration T = Duration.ofSeconds(10);
  private static final String NS = NetworkNamespaces.PREFIX + "-nft-" + ProcessHandle.current().pid();

  private static final NatRule SNAT = new NatRule.Snat("west", "mw0", Cidr.parse("10.244.0.0/16"),
      Cidr.parse("10.1.0.0/16"), Cidr.parse("10.0.0.0/16"));
  private static final NatRule DNAT = new NatRule.Dnat("west", "mw0", Cidr.parse("10.1.0.0/16"),
      Cidr.parse("10.0.0.0/16"), Cidr.parse("10.244.0.0/16"));
  private static final NatRule SNAT_NORTH = new NatRule.Snat("north", "mw0", Cidr.parse("10.244.0.0/16"),
      Cidr.parse("10.2.0.0/16"), Cidr.parse("10.0.0.0/16"));
  private static final NatRule SNAT6 = new NatRule.Snat("west", "mw0", Cidr.parse("fd00:10::/64"),
      Cidr.parse("fd99:1::/64"), Cidr.parse("fd99::/64"));
  private static final NatRule HOST = new NatRule.Dnat("west", "mw0", Cidr.parse("10.1.0.7/32"),
      Cidr.parse("10.0.0.9/32"), Cidr.parse("10.244.0.1/32"));

  private static CommandRunner runner;
  private static NftNat nat;

  @BeforeAll
  static void namespace() {
    Requirements.check().andTools(Map.of("nft", "nftables")).enforce();
    CommandRunner host = new ProcessCommandRunner();
    host.run(List.of("ip", "netns", "add", NS), T);
    runner = new NamespacedCommandRunner(host, NS);
    nat = new NftNat(runner);
  }

  @AfterAll
  static void removeNamespace() {
    if (runner != null) {
      new ProcessCommandRunner().run(List.of("ip", "netns", "del", NS), T);
    }
  }

  private static String ruleset() {
    return runner.run(List.of("nft", "list", "ruleset"), T).stdout();
  }

  @Test
  void createsReadsBackRepairsAndCleansUp() {
    // Someone else's table: never touched.
    runner.run(List.of("nft", "-f", "-"), "table ip other {\n chain c {\n type nat hook postrouting priority 50;\n }\n}\n"
        .getBytes(java.nio.charset.StandardCharsets.UTF_8), T);
    assertEquals(Map.of(NatFamily.IPV4, NatTable.absent(NatFamily.IPV4), NatFamily.IPV6,
        NatTable.absent(NatFamily.IPV6)), nat.tables());

    // Create both families at once.
    List<NatChange> created = nat.sync(List.of(SNAT, DNAT, SNAT6, HOST));
    assertEquals(2, created.size());
    Map<NatFamily, NatTable> tables = nat.tables();
    assertEquals(List.of(DNAT, HOST, SNAT), tables.get(NatFamily.IPV4).rules().stream().sorted(NatRule.ORDER).toList());
    assertEquals(List.of(SNAT6), tables.get(NatFamily.IPV6).rules());
    assertEquals(List.of(), tables.get(NatFamily.IPV4).foreign());
    assertTrue(ruleset().contains("snat ip prefix to 10.0.0.0/16 comment \"peer=west\"")
        || ruleset().contains("snat prefix to 10.0.0.0/16 comment \"peer=west\""), ruleset());

    // Diff: the same plan changes nothing.
    assertEquals(List.of(), nat.sync(List.of(HOST, DNAT, SNAT, SNAT6)));

    // A new peer: only the IPv4 table is rewritten, naming the addition.
    List<NatChange> grown = nat.sync(List.of(SNAT, DNAT, SNAT6, HOST, SNAT_NORTH));
    NatChange.WriteTable write = assertInstanceOf(NatChange.WriteTable.class, grown.get(0));
    assertEquals(List.of(SNAT_NORTH), write.added());
    assertEquals(1, grown.size());

    // Drift: a rule added and one deleted by hand are repaired.
    runner.run(List.of("nft", "add", "rule", "ip", "meshwire", "postrouting", "counter", "masquerade"), T);
    runner.run(List.of("nft", "flush", "chain", "ip", "meshwire", "prerouting"), T);
    assertEquals(2, nat.tables().get(NatFamily.IPV4).rules().size(), "two SNAT rules left");
    assertFalse(nat.tables().get(NatFamily.IPV4).foreign().isEmpty(), "the masquerade rule is foreign");
    assertEquals(1, nat.sync(List.of(SNAT, DNAT, SNAT6, HOST, SNAT_NORTH)).size());
    assertEquals(List.of(), nat.sync(List.of(SNAT, DNAT, SNAT6, HOST, SNAT_NORTH)));
    assertFalse(ruleset().contains("masquerade"));

    // No IPv6 rule needed any more: that table goes, IPv4 stays.
    assertEquals(List.of(new NatChange.DeleteTable(NatFamily.IPV6)), nat.sync(List.of(SNAT, DNAT, HOST, SNAT_NORTH)));
    assertFalse(nat.tables().get(NatFamily.IPV6).present());

    // Nothing needed: the agent's tables are gone, the other table is still there.
    assertEquals(List.of(new NatChange.DeleteTable(NatFamily.IPV4)), nat.sync(List.of()));
    assertEquals(List.of(), nat.sync(List.of()));
    String left = runner.run(List.of("nft", "list", "tables"), T).stdout();
    assertEquals("table ip other", left.strip());

    nat.removeAll(); // idempotent with nothing there
    assertFalse(nat.tables().get(NatFamily.IPV4).present());
  }
}
