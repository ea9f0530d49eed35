package io.meshwire.agent.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HubAddressesTest {

  private final Map<String, List<InetAddress>> dns = new HashMap<>();
  private int lookups;

  private final HubAddresses.Resolver resolver = host -> {
    lookups++;
    List<InetAddress> found = dns.get(host);
    if (found == null) {
      return List.of(InetAddress.getByName(host)); // literals: no lookup
    }
    if (found.isEmpty()) {
      throw new UnknownHostException(host + ": no such name");
    }
    return found;
  };

  private static InetAddress ip(String literal) throws UnknownHostException {
    return InetAddress.getByName(literal);
  }

  private static List<HostPort> take(HubAddresses a, int n) {
    List<HostPort> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(a.next());
    }
    return out;
  }

  @Test
  void aNameWithSeveralAddressesCountsAsEachOfThemInTheRotation() throws Exception {
    dns.put("hub.example", List.of(ip("10.0.0.1"), ip("10.0.0.2"), ip("fd00::3")));
    HubAddresses a = new HubAddresses(List.of(new HostPort("hub.example", 7443)), resolver, new Random(1));

    Set<HostPort> seen = new HashSet<>(take(a, 3));

    assertEquals(Set.of(new HostPort("10.0.0.1", 7443), new HostPort("10.0.0.2", 7443),
        new HostPort("fd00:0:0:0:0:0:0:3", 7443)), seen);
  }

  @Test
  void agentsStartAtDifferentAddressesAndGoOnInOrder() {
    List<HostPort> hubs = List.of(new HostPort("127.0.0.1", 1), new HostPort("127.0.0.1", 2),
        new HostPort("127.0.0.1", 3));
    Map<HostPort, Integer> firsts = new HashMap<>();
    Random seeds = new Random(42);
    for (int agent = 0; agent < 300; agent++) {
      HubAddresses a = new HubAddresses(hubs, resolver, new Random(seeds.nextLong()));
      List<HostPort> order = take(a, 4);
      firsts.merge(order.get(0), 1, Integer::sum);
      int start = hubs.indexOf(order.get(0));
      for (int i = 1; i < 4; i++) {
        assertEquals(hubs.get((start + i) % 3), order.get(i), "after a failure: the next address");
      }
    }
    assertEquals(3, firsts.size(), "every replica is somebody's first: " + firsts);
    firsts.values().forEach(n -> assertTrue(n > 60, "spread over the replicas: " + firsts));
  }

  @Test
  void namesAreResolvedAgainAfterEachRoundSoNewAddressesJoinTheRotation() throws Exception {
    dns.put("hub.example", List.of(ip("10.0.0.1"), ip("10.0.0.2")));
    HubAddresses a = new HubAddresses(List.of(new HostPort("hub.example", 7443)), resolver, new Random(3));
    take(a, 2);
    int before = lookups;
    dns.put("hub.example", List.of(ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.9")));

    Set<HostPort> next = new HashSet<>(take(a, 3));

    assertEquals(before + 1, lookups, "one lookup per round");
    assertTrue(next.contains(new HostPort("10.0.0.9", 7443)), next.toString());
  }

  @Test
  void aNameThatDoesNotResolveStaysAsTheNameAndTheOthersStillServe() throws Exception {
    dns.put("gone.example", List.of());
    HubAddresses a = new HubAddresses(List.of(new HostPort("gone.example", 7443), new HostPort("10.0.0.1", 7443)),
        resolver, new Random(5));

    assertEquals(Set.of(new HostPort("gone.example", 7443), new HostPort("10.0.0.1", 7443)), new HashSet<>(a.round()));
  }

  @Test
  void noAddressIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new HubAddresses(List.of(), resolver, new Random()));
    assertTrue(e.getMessage().startsWith("hub addresses:"), e.getMessage());
  }
}
