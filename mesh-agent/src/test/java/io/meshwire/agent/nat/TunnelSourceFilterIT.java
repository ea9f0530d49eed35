package io.meshwire.agent.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.exec.CommandFailedException;
import io.meshwire.agent.exec.CommandRunner;
import io.meshwire.agent.exec.NamespacedCommandRunner;
import io.meshwire.agent.exec.ProcessCommandRunner;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netlab.netns.NetworkNamespaces;
import io.meshwire.testsupport.netns.Requirements;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tunnel source filter against a real kernel: a gateway namespace whose "tunnel" (a veth named
 * like one; the filter only looks at the interface name and the source) receives pings from two
 * peers' pod addresses. Only current peers' sources get in; a peer taken out of the set is cut off
 * at once although its route (its "WireGuard peer") is still there. Needs root and nft; skips
 * without them unless {@code MESHWIRE_E2E_REQUIRED=1}.
 */
class TunnelSourceFilterIT {

  private static final Duration T = Duration.ofSeconds(10);
  private static final String GATEWAY = NetworkNamespaces.PREFIX + "-tsf-g-" + ProcessHandle.current().pid();
  private static final String PEERS = NetworkNamespaces.PREFIX + "-tsf-p-" + ProcessHandle.current().pid();
  private static final String TUNNEL = "mwtsf0";
  private static final Cidr WEST = Cidr.parse("10.1.0.0/16");
  private static final Cidr NORTH = Cidr.parse("10.2.0.0/16");

  private static final List<String> created = new ArrayList<>();
  private static CommandRunner gateway;
  private static CommandRunner peers;
  private static TunnelSourceFilter filter;

  @BeforeAll
  static void namespaces() {
    Requirements.check().andTools(Map.of("nft", "nftables", "ping", "iputils-ping")).enforce();
    CommandRunner host = new ProcessCommandRunner();
    for (String ns : List.of(GATEWAY, PEERS)) {
      host.run(List.of("ip", "netns", "add", ns), T);
      created.add(ns);
    }
    gateway = new NamespacedCommandRunner(host, GATEWAY);
    peers = new NamespacedCommandRunner(host, PEERS);
    gateway.run(List.of("ip", "link", "add", TUNNEL, "type", "veth", "peer", "name", "mwtsfp", "netns", PEERS), T);
    for (List<String> c : List.of(List.of("ip", "link", "set", "lo", "up"), List.of("ip", "link", "set", TUNNEL, "up"),
        List.of("ip", "addr", "add", "10.9.0.1/24", "dev", TUNNEL),
        List.of("ip", "route", "add", WEST.toString(), "via", "10.9.0.2"),
        List.of("ip", "route", "add", NORTH.toString(), "via", "10.9.0.2"))) {
      gateway.run(c, T);
    }
    for (List<String> c : List.of(List.of("ip", "link", "set", "lo", "up"), List.of("ip", "link", "set", "mwtsfp", "up"),
        List.of("ip", "addr", "add", "10.9.0.2/24", "dev", "mwtsfp"),
        List.of("ip", "addr", "add", "10.1.0.5/32", "dev", "lo"),
        List.of("ip", "addr", "add", "10.2.0.5/32", "dev", "lo"))) {
      peers.run(c, T);
    }
    filter = new TunnelSourceFilter(gateway);
  }

  @AfterAll
  static void removeNamespaces() {
    CommandRunner host = new ProcessCommandRunner();
    for (String ns : created) {
      host.run(List.of("ip", "netns", "del", ns), T);
    }
  }

  /** Whether a ping from {@code source} (a peer's pod) reaches the gateway through the tunnel. */
  private static boolean reaches(String source) {
    try {
      peers.run(List.of("ping", "-c", "1", "-W", "1", "-I", source, "10.9.0.1"), T);
      return true;
    } catch (CommandFailedException e) {
      return false;
    }
  }

  @Test
  void onlyCurrentPeersSourcesGetInAndARemovedPeerIsCutOffAtOnce() {
    gateway.run(List.of("nft", "-f", "-"), "table ip other {\n chain c {\n type filter hook input priority 10;\n }\n}\n"
        .getBytes(StandardCharsets.UTF_8), T);
    assertTrue(reaches("10.1.0.5") && reaches("10.2.0.5"), "no filter yet: both peers reach the gateway");

    assertTrue(filter.sync(TUNNEL, List.of(WEST, Cidr.parse("10.1.7.0/24"))));
    assertTrue(reaches("10.1.0.5"), "west is a current peer");
    assertFalse(reaches("10.2.0.5"), "north is not: dropped on the tunnel");
    assertEquals(new TunnelSourceFilter.Table(true, Optional.of(TUNNEL), Set.of(WEST), true), filter.read(),
        "a CIDR inside another is not an element of its own");
    assertFalse(filter.sync(TUNNEL, List.of(WEST)), "already as planned: not written again");

    // north joins, west leaves (revoked, or a peering policy): west's route is still there.
    assertTrue(filter.sync(TUNNEL, List.of(NORTH)));
    assertTrue(reaches("10.2.0.5"));
    assertFalse(reaches("10.1.0.5"), "a peer no longer allowed is cut off before its tunnel is gone");

    // A hand edit (the drop rule deleted) is repaired by the next sync.
    long dropHandle = handleOfDropRule();
    gateway.run(List.of("nft", "delete", "rule", "inet", TunnelSourceFilter.TABLE, "tunnel_in", "handle",
        String.valueOf(dropHandle)), T);
    assertTrue(reaches("10.1.0.5"), "without its drop rule the table filters nothing");
    assertFalse(filter.read().asWritten());
    assertTrue(filter.sync(TUNNEL, List.of(NORTH)), "repaired");
    assertFalse(reaches("10.1.0.5"));

    // No peer at all: nothing gets in through the tunnel.
    assertTrue(filter.sync(TUNNEL, List.of()));
    assertFalse(reaches("10.2.0.5"));

    filter.remove();
    assertEquals(new TunnelSourceFilter.Table(false, Optional.empty(), Set.of(), false), filter.read());
    assertTrue(reaches("10.1.0.5") && reaches("10.2.0.5"), "removed for uninstall: no filter left behind");
    assertTrue(gateway.run(List.of("nft", "list", "ruleset"), T).stdout().contains("table ip other"),
        "another table is never touched");
  }

  private static long handleOfDropRule() {
    String listing = gateway.run(List.of("nft", "-a", "list", "chain", "inet", TunnelSourceFilter.TABLE, "tunnel_in"), T)
        .stdout();
    return listing.lines().filter(l -> l.contains("drop: not a current peer")).findFirst()
        .map(l -> Long.parseLong(l.replaceFirst(".*# handle (\\d+).*", "$1"))).orElseThrow();
  }
}
