package io.meshwire.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Agent settings: defaults, and every rejection names the setting at fault. */
class AgentConfigTest {

  @TempDir Path dir;

  /** The smallest valid set of settings. */
  private static Map<String, String> minimal() {
    Map<String, String> m = new HashMap<>();
    m.put("cluster-id", "east");
    m.put("state-dir", "/var/lib/meshwire");
    m.put("hub", "hub.example:7443");
    m.put("endpoint", "198.18.0.1:51820");
    m.put("pod-cidrs", "10.1.0.0/16");
    return m;
  }

  private static Map<String, String> with(String key, String value) {
    Map<String, String> m = minimal();
    m.put(key, value);
    return m;
  }

  private static Map<String, String> without(String key) {
    Map<String, String> m = minimal();
    m.remove(key);
    return m;
  }

  private static String rejection(Map<String, String> settings) {
    return assertThrows(IllegalArgumentException.class, () -> AgentConfig.parse(settings)).getMessage();
  }

  @Test
  void minimalSettingsTakeTheDefaults() {
    AgentConfig c = AgentConfig.parse(minimal());

    assertEquals("east", c.clusterId());
    assertEquals(Path.of("/var/lib/meshwire"), c.stateDir());
    assertEquals(List.of(new HostPort("hub.example", 7443)), c.hubs());
    assertEquals(List.of(new HostPort("198.18.0.1", 51820)), c.endpoints());
    assertEquals(List.of(Cidr.parse("10.1.0.0/16")), c.podCidrs());
    assertEquals(List.of(), c.serviceCidrs());
    assertEquals("mw0", c.interfaceName());
    assertEquals(51820, c.listenPort());
    assertEquals("auto", c.wireguard());
    assertEquals(Duration.ofSeconds(10), c.reconcileInterval());
    assertEquals(Duration.ofSeconds(5), c.statusInterval());
    assertEquals(Optional.empty(), c.metricsListen());
    assertEquals(Optional.empty(), c.interfaceAddress());
    assertEquals(Optional.empty(), c.peerChannel());
    assertEquals(Optional.empty(), c.hubCa());
    assertEquals(Optional.empty(), c.joinToken());
    assertFalse(c.acceptHubState());
    assertEquals(Duration.ofSeconds(25), c.persistentKeepalive());
    assertEquals(Duration.ofSeconds(75), c.linkDownAfter());
    assertEquals(51821, c.probePort(), "WireGuard's port + 1");
    assertEquals(io.meshwire.agent.path.PathPolicy.defaults(), c.pathPolicy());
    assertEquals(Duration.ofMinutes(5), c.relayIdleClose());
    assertEquals(Duration.ofMinutes(15), c.rejoinCarry());
  }

  @Test
  void probePortAndPathTimingsAreRead() {
    Map<String, String> m = minimal();
    m.put("listen-port", "51999");
    m.put("path-first-contact", "2s");
    m.put("path-misses", "2");
    m.put("path-upgrade-after", "3s");
    m.put("path-probe-backoff", "500ms");
    m.put("path-probe-backoff-max", "2s");
    m.put("relay-idle-close", "30s");

    AgentConfig c = AgentConfig.parse(m);
    assertEquals(52000, c.probePort(), "follows the listen port unless set");
    assertEquals(Duration.ofSeconds(2), c.pathPolicy().firstContact());
    assertEquals(2, c.pathPolicy().missesToDowngrade());
    assertEquals(Duration.ofSeconds(3), c.pathPolicy().upgradeAfter());
    assertEquals(Duration.ofMillis(500), c.pathPolicy().initialBackoff());
    assertEquals(Duration.ofSeconds(2), c.pathPolicy().maxBackoff());
    assertEquals(io.meshwire.agent.path.PathPolicy.defaults().flapWindow(), c.pathPolicy().flapWindow());
    assertEquals(Duration.ofSeconds(30), c.relayIdleClose());
    m.put("rejoin-carry", "2h");
    assertEquals(Duration.ofHours(2), AgentConfig.parse(m).rejoinCarry());
    m.put("probe-port", "4000");
    assertEquals(4000, AgentConfig.parse(m).probePort());
  }

  @Test
  void everySettingIsRead() {
    Map<String, String> m = minimal();
    m.put("hub", "hub-a.example:7443, [fd00::1]:7443");
    m.put("hub-ca", "/etc/meshwire/ca.crt");
    m.put("join-token", "tok-123");
    m.put("interface", "mesh1");
    m.put("listen-port", "51999");
    m.put("interface-address", "100.96.0.1/32");
    m.put("endpoint", "198.18.0.1:51999,gw.east.example:51999");
    m.put("pod-cidrs", "10.1.0.0/16, fd00:1::/64");
    m.put("service-cidrs", "10.201.0.0/24");
    m.put("peer-channel", "10.1.0.10:7444");
    m.put("wireguard", "userspace");
    m.put("reconcile-interval", "30s");
    m.put("status-interval", "500ms");
    m.put("metrics-listen", "127.0.0.1:0");
    m.put("accept-hub-state", "true");

    AgentConfig c = AgentConfig.parse(m);

    assertEquals(List.of(new HostPort("hub-a.example", 7443), new HostPort("fd00::1", 7443)), c.hubs());
    assertEquals(Optional.of(Path.of("/etc/meshwire/ca.crt")), c.hubCa());
    assertEquals(Optional.of("tok-123"), c.joinToken());
    assertEquals("mesh1", c.interfaceName());
    assertEquals(51999, c.listenPort());
    assertEquals(Optional.of(Cidr.parse("100.96.0.1/32")), c.interfaceAddress());
    assertEquals(2, c.endpoints().size());
    assertEquals(List.of(Cidr.parse("10.1.0.0/16"), Cidr.parse("fd00:1::/64")), c.podCidrs());
    assertEquals(List.of(Cidr.parse("10.201.0.0/24")), c.serviceCidrs());
    assertEquals(Optional.of(new HostPort("10.1.0.10", 7444)), c.peerChannel());
    assertEquals("userspace", c.wireguard());
    assertEquals(Duration.ofSeconds(30), c.reconcileInterval());
    assertEquals(Duration.ofMillis(500), c.statusInterval());
    assertEquals(Optional.of(new HostPort("127.0.0.1", 0)), c.metricsListen());
    assertTrue(c.acceptHubState());
  }

  @Test
  void remapPoolsDefaultToCgnatThenAUniqueLocalIpv6RangeAndCanBeSetOrTurnedOff() {
    assertEquals(List.of(Cidr.parse("100.64.0.0/10"), Cidr.parse("fd6d:7769:7265::/48")),
        AgentConfig.parse(minimal()).remapPools());
    assertEquals(List.of(), AgentConfig.parse(minimal()).reservedCidrs());

    AgentConfig c = AgentConfig.parse(Map.of("cluster-id", "east", "state-dir", "/s", "hub", "h:1",
        "endpoint", "198.18.0.1:51820", "pod-cidrs", "10.1.0.0/16", "remap-pools", "100.64.0.0/10, fd99::/48",
        "reserved-cidrs", "198.18.0.0/15,100.96.0.0/16"));
    assertEquals(List.of(Cidr.parse("100.64.0.0/10"), Cidr.parse("fd99::/48")), c.remapPools());
    assertEquals(List.of(Cidr.parse("198.18.0.0/15"), Cidr.parse("100.96.0.0/16")), c.reservedCidrs());

    assertEquals(List.of(), AgentConfig.parse(with("remap-pools", "")).remapPools());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cluster-id", "state-dir", "hub", "endpoint", "pod-cidrs"})
  void aMissingRequiredSettingIsNamed(String key) {
    assertEquals("agent config: " + key + ": is required", rejection(without(key)));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cluster-id", "state-dir", "hub", "endpoint", "pod-cidrs"})
  void aBlankRequiredSettingIsNamed(String key) {
    assertEquals("agent config: " + key + ": is required", rejection(with(key, "  ")));
  }

  @Test
  void anEndpointFileStandsInForTheEndpoint() {
    Map<String, String> settings = without("endpoint");
    settings.put("endpoint-from-file", "/run/meshwire/endpoint");
    AgentConfig c = AgentConfig.parse(settings);
    assertEquals(java.util.Optional.of(java.nio.file.Path.of("/run/meshwire/endpoint")), c.endpointFile());
    assertEquals(List.of(), c.endpoints());
    assertEquals(java.util.Optional.empty(), AgentConfig.parse(without("nothing")).endpointFile());
  }

  @Test
  void aBadCidrInPodCidrsNamesItsIndex() {
    String message = rejection(with("pod-cidrs", "10.1.0.0/16,10.2.0.0/33"));

    assertTrue(message.startsWith("agent config: pod-cidrs[1]: "), message);
    assertTrue(message.contains("10.2.0.0/33"), message);
  }

  @Test
  void aCidrWithHostBitsNamesItsIndexAndTheFix() {
    String message = rejection(with("service-cidrs", "10.201.0.1/24"));

    assertTrue(message.startsWith("agent config: service-cidrs[0]: "), message);
    assertTrue(message.contains("did you mean 10.201.0.0/24?"), message);
  }

  @Test
  void overlappingPodAndServiceCidrsAreRejected() {
    String message = rejection(with("service-cidrs", "10.1.128.0/24"));

    assertEquals("agent config: pod-cidrs/service-cidrs: 10.1.0.0/16 overlaps 10.1.128.0/24", message);
  }

  @Test
  void overlappingPodCidrsAreRejected() {
    assertTrue(rejection(with("pod-cidrs", "10.0.0.0/8,10.1.0.0/16")).contains("10.0.0.0/8 overlaps 10.1.0.0/16"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "cluster-id         | East_1          | agent config: cluster-id: ",
      "interface          | a-name-too-long-for-linux | agent config: interface: ",
      "listen-port        | 0               | agent config: listen-port: 0 out of range",
      "listen-port        | 70000           | agent config: listen-port: 70000 out of range",
      "listen-port        | many            | agent config: listen-port: \"many\" is not a number",
      "wireguard          | boringtun       | agent config: wireguard: ",
      "hub                | hub.example     | agent config: hub[0]: ",
      "endpoint           | 198.18.0.1:1,x:0 | agent config: endpoint[1]: ",
      "interface-address  | 100.96.0.1      | agent config: interface-address: ",
      "peer-channel       | nowhere         | agent config: peer-channel: ",
      "reconcile-interval | 10              | agent config: reconcile-interval: ",
      "reconcile-interval | 0s              | agent config: reconcile-interval: must be greater than zero",
      "status-interval    | 0ms             | agent config: status-interval: must be greater than zero",
      "metrics-listen     | everywhere      | agent config: metrics-listen: ",
      "accept-hub-state   | yes             | agent config: accept-hub-state: \"yes\" is not true or false",
      "remap-pools        | 10.0.0.0/8,nope | agent config: remap-pools[1]: \"nope\": expected address/prefix",
      "remap-pools        | 10.0.0.1/8      | agent config: remap-pools[0]: \"10.0.0.1/8\": host bits set",
      "remap-pools        | 10.0.0.0/8,192.168.0.0/16,10.9.0.0/16 | agent config: remap-pools[2]: 10.9.0.0/16 overlaps remap-pools[0] 10.0.0.0/8",
      "reserved-cidrs     | 10.0.0.0/33     | agent config: reserved-cidrs[0]: \"10.0.0.0/33\": prefix length out of range",
      "persistent-keepalive | 0s            | agent config: persistent-keepalive: 0s is not a whole number of seconds",
      "persistent-keepalive | 1500ms        | agent config: persistent-keepalive: 1500ms is not a whole number of seconds",
      "persistent-keepalive | 20h           | agent config: persistent-keepalive: 20h is not a whole number of seconds",
      "link-down-after    | 50s             | agent config: link-down-after: 50s must be more than twice persistent-keepalive (25s)",
      "link-down-after    | soon            | agent config: link-down-after: ",
      "probe-port         | 51820           | agent config: probe-port: 51820 must be in 1..65535 and not the listen-port (51820)",
      "probe-port         | 0               | agent config: probe-port: 0 must be in 1..65535",
      "probe-port         | p               | agent config: probe-port: \"p\" is not a number",
      "path-first-contact | 0s              | agent config: path-first-contact: 0s must be positive",
      "path-misses        | 0               | agent config: path-misses: 0 must be 1..60",
      "path-upgrade-after | later           | agent config: path-upgrade-after: ",
      "path-probe-backoff-max | 1s          | agent config: path-probe-backoff-max: 1s must be between path-probe-backoff (5s) and 10m",
      "relay-idle-close   | 500ms           | agent config: relay-idle-close: 500ms must be at least 1s",
      "rejoin-carry       | 0s              | agent config: rejoin-carry: 0s must be in 1s..7d",
      "rejoin-carry       | 8d              | agent config: rejoin-carry: 8d must be in 1s..7d"})
  void aBadValueIsRejectedNamingTheSetting(String key, String value, String start) {
    String message = rejection(with(key, value));

    assertTrue(message.startsWith(start), message);
  }

  @Test
  void aShortKeepaliveAllowsAShortLinkThreshold() {
    Map<String, String> m = with("persistent-keepalive", "2s");
    m.put("link-down-after", "5s");

    AgentConfig c = AgentConfig.parse(m);

    assertEquals(Duration.ofSeconds(2), c.persistentKeepalive());
    assertEquals(Duration.ofSeconds(5), c.linkDownAfter());
  }

  @Test
  void anUnknownSettingIsRejectedListingTheKnownOnes() {
    String message = rejection(with("pod-cidr", "10.1.0.0/16"));

    assertTrue(message.startsWith("agent config: pod-cidr: unknown setting (known: "), message);
    assertTrue(message.contains("pod-cidrs"), message);
  }

  @Test
  void joinTokenIsReadFromAFileWhenNotGiven() throws IOException {
    Path token = dir.resolve("token");
    Files.writeString(token, "tok-from-file\n");

    AgentConfig c = AgentConfig.parse(with("join-token-file", token.toString()));

    assertEquals(Optional.of("tok-from-file"), c.joinToken());
  }

  @Test
  void anUnreadableJoinTokenFileIsNamed() {
    String message = rejection(with("join-token-file", dir.resolve("absent").toString()));

    assertTrue(message.startsWith("agent config: join-token-file: cannot read "), message);
  }

  @Test
  void reflectionIsOffWithoutKubeconfigAndListensOnThePeerChannelByDefault() {
    AgentConfig off = AgentConfig.parse(minimal());
    assertEquals(Optional.empty(), off.kubeconfig());

    Map<String, String> m = with("kubeconfig", "/etc/meshwire/kubeconfig");
    m.put("peer-channel", "10.1.0.1:7444");
    AgentConfig on = AgentConfig.parse(m);
    assertEquals(Optional.of(Path.of("/etc/meshwire/kubeconfig")), on.kubeconfig());
    assertEquals(Optional.of(HostPort.parse("10.1.0.1:7444")), on.peerListen());

    m.put("peer-listen", "0.0.0.0:7444");
    assertEquals(Optional.of(HostPort.parse("0.0.0.0:7444")), AgentConfig.parse(m).peerListen());
  }

  @Test
  void kubeconfigWithoutAnyPeerListenAddressIsRejected() {
    String message = rejection(with("kubeconfig", "/etc/meshwire/kubeconfig"));

    assertTrue(message.startsWith("agent config: peer-listen: required with kubeconfig"), message);
  }
}
