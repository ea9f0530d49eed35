package io.meshwire.agent.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A moved local gateway address is followed; other endpoints are announced as configured. */
class EndpointFollowerTest {

  private final Map<String, List<InetAddress>> nics = new HashMap<>();

  private void addresses(String nic, String... addresses) {
    nics.put(nic, Arrays.stream(addresses).map(Cidr::parseAddress).toList());
  }

  @Test
  void aLocalEndpointWhoseAddressMovesIsReplacedByTheInterfacesNewAddress() {
    addresses("lo", "127.0.0.1");
    addresses("eth0", "198.18.0.11", "fe80::1");
    EndpointFollower follower = new EndpointFollower(List.of(new HostPort("198.18.0.11", 51820)), () -> nics);
    assertFalse(follower.check(), "nothing moved");

    addresses("eth0", "fe80::1", "198.18.0.231"); // DHCP gave the gateway a new address
    assertTrue(follower.check());
    assertEquals(List.of(new HostPort("198.18.0.231", 51820)), follower.endpoints());
    assertFalse(follower.check(), "reported once");
  }

  @Test
  void anEndpointThatIsNotLocalOrHasNoReplacementStaysAsConfigured() {
    addresses("eth0", "10.0.0.5");
    List<HostPort> configured = List.of(new HostPort("203.0.113.7", 51820), new HostPort("gw.example.org", 51820),
        new HostPort("10.0.0.5", 51820));
    EndpointFollower follower = new EndpointFollower(configured, () -> nics);

    addresses("eth0", "fe80::5"); // only a link-local address left: nothing to announce instead
    assertFalse(follower.check());
    assertEquals(configured, follower.endpoints());
  }
}
