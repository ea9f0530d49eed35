package io.meshwire.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netlab.lab.AgentJvmOptions;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.netlab.netns.ExecResult;
import io.meshwire.testsupport.netns.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane belongs to the gateway, not to the agent process that set it up: real agents,
 * hub and wireguard-go in network namespaces. In order: a mesh of three forms; cluster a's agent
 * is restarted twice (SIGTERM, then SIGKILL) and its wireguard-go, adopted each time, keeps
 * serving even when it writes a log line afterwards (it used to die of SIGPIPE on the pipe to the
 * first agent). Then, with the hub down, a's agent restarts from a corrupt state file and then from
 * cluster c's state file: both are set aside, and a's tunnels, routes and key stay exactly as they
 * were (it used to remove every peer, or take c's key); when the hub returns, a manages its data
 * plane again with its own key. A second agent with a's interface name refuses to start; and when
 * a's gateway address moves, its peers follow within seconds (the move is announced), not after
 * WireGuard roaming's 80-95 s.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DataPlaneOwnershipIT {

  private static final Logger log = LoggerFactory.getLogger(DataPlaneOwnershipIT.class);
  private static MeshLab lab;

  @BeforeAll
  static void startLab() throws Exception {
    Requirements.check().enforce(); // skips, or fails under MESHWIRE_E2E_REQUIRED=1
    Path work = Path.of(System.getProperty("meshwire.workdir", "target/e2e-work")).resolve("dataplane-" + System.nanoTime());
    lab = MeshLab.start(work, Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")));
  }

  @AfterAll
  static void stopLab() {
    if (lab != null) {
      lab.close();
    }
  }

  /** The wireguard-go process serving {@code name}'s interface (its command line is {@code wireguard-go -f IF}). */
  private static Optional<ProcessHandle> wireguardGo(String name) {
    List<String> args = List.of("-f", lab.cluster(name).wireGuardInterface());
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().command().orElse("").endsWith("wireguard-go"))
        .filter(p -> p.info().arguments().map(List::of).orElse(List.of()).equals(args))
        .findFirst();
  }

  /** Waits for {@code observer}'s agent to log that it set a peer's WireGuard endpoint to {@code endpoint}. */
  private static void awaitPeerEndpointSet(String observer, long logOffset, String endpoint, Duration timeout,
      String what) {
    MeshLab.awaitTrue(() -> {
      try {
        return logSince(lab.agentLog(observer), logOffset).lines()
            .anyMatch(l -> l.contains("wireguard peer updated") && l.contains("endpoint=" + endpoint));
      } catch (IOException e) {
        return false;
      }
    }, timeout, what);
  }

  private static String logSince(Path file, long offset) throws IOException {
    try (var in = Files.newInputStream(file)) {
      in.skipNBytes(Math.min(offset, Files.size(file)));
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  @Order(1)
  void threeClustersFormAMesh() throws Exception {
    lab.addCluster("a", "10.111.0.0/16");
    lab.addCluster("b", "10.112.0.0/16");
    lab.addCluster("c", "10.113.0.0/16");
    lab.awaitFullMesh(List.of("a", "b", "c"), Duration.ofSeconds(60));
  }

  @Test
  @Order(2)
  void wireguardGoKeepsServingAfterTwoAgentRestartsAndALogLine() throws Exception {
    ProcessHandle wgGo = wireguardGo("a").orElseThrow(() -> new AssertionError("no wireguard-go serving a"));
    Path agentLog = lab.agentLog("a");

    long offset = Files.size(agentLog);
    lab.stopAgent("a"); // SIGTERM: the agent's shutdown runs
    String shutdown = logSince(agentLog, offset);
    assertEquals(1, shutdown.lines().filter(l -> l.contains("data plane left running on purpose")).count(),
        "one shutdown line saying the data plane stays:\n" + shutdown);
    assertTrue(shutdown.contains("wireguard_go_pid=" + wgGo.pid()), shutdown);
    lab.startAgent("a");
    lab.killAgent("a"); // SIGKILL: no shutdown at all
    lab.startAgent("a");

    // Make wireguard-go write a line: a request its UAPI socket refuses (it changes nothing). Its
    // output used to be a pipe to the first agent, long dead by now: SIGPIPE killed it right here.
    String ifName = lab.cluster("a").wireGuardInterface();
    ExecResult uapi = lab.net().exec(lab.cluster("a").gateway(), Duration.ofSeconds(10), "bash", "-c",
        "printf 'set=1\\nmeshwire_e2e_bogus=1\\n\\n' | socat -t 2 - UNIX-CONNECT:/var/run/wireguard/" + ifName + ".sock");
    assertTrue(uapi.stdout().contains("errno="), "UAPI answered: " + uapi.stdout() + uapi.stderr());

    int lostBa = lab.pingLoss("b", "a", 30, Duration.ofMillis(100));
    int lostCa = lab.pingLoss("c", "a", 30, Duration.ofMillis(100));
    log.info("measured after_two_restarts_and_wireguard_go_log_line lost_b_to_a={} lost_c_to_a={} of 30 each",
        lostBa, lostCa);
    assertTrue(wgGo.isAlive(), "wireguard-go pid " + wgGo.pid() + " still serving");
    assertEquals(0, lostBa, "pings b -> a lost");
    assertEquals(0, lostCa, "pings c -> a lost");
    assertTrue(logSince(agentLog, offset).contains("wireguard interface adopted if="
        + lab.cluster("a").wireGuardInterface() + " backend=userspace pid=" + wgGo.pid()), "adopted, not restarted");
    Path output = lab.agentStateDir("a").resolve("wireguard-go-" + ifName + ".log");
    MeshLab.awaitTrue(() -> {
      try {
        return Files.readString(output).contains("meshwire_e2e_bogus");
      } catch (IOException e) {
        return false;
      }
    }, Duration.ofSeconds(10), "wireguard-go's line in " + output);
  }

  /** a's interface line and peers (public key, allowed IPs) from {@code wg show dump}, without counters. */
  private static List<String> peersOfA() {
    return lab.wgDump("a").strip().lines()
        .map(l -> l.split("\t"))
        .map(f -> f.length > 4 ? f[0] + " " + f[3] : f[1]) // peer: key + allowed IPs; interface: public key
        .sorted()
        .toList();
  }

  private static String routesOfA() {
    return lab.net().exec(lab.cluster("a").gateway(), "ip", "route", "show", "dev",
        lab.cluster("a").wireGuardInterface()).stdout();
  }

  /** Restarts a's agent (SIGKILL) with its state file replaced by {@code stateFile}'s bytes; checks nothing changed. */
  private static void restartAWithStateFile(byte[] stateFile, String expectedProblem) throws Exception {
    List<String> peers = peersOfA();
    String routes = routesOfA();
    assertEquals(3, peers.size(), "a's interface and its 2 peers: " + peers);
    lab.killAgent("a");
    Files.write(lab.agentStateDir("a").resolve("state.bin"), stateFile);
    lab.startAgent("a");
    String status = lab.agentStatus("a");
    assertTrue(status.contains("\"data_plane_observe_only\":\"" + expectedProblem), status);
    int lost = lab.pingLoss("a", "b", 20, Duration.ofMillis(100)) + lab.pingLoss("a", "c", 20, Duration.ofMillis(100));
    log.info("measured restart_with_unusable_state problem=\"{}\" lost={} of 40", expectedProblem, lost);
    assertEquals(peers, peersOfA(), "WireGuard key and peers untouched");
    assertEquals(routes, routesOfA(), "routes untouched");
    assertEquals(0, lost, "pings lost from a while its state was unusable");
  }

  @Test
  @Order(3)
  void aCorruptStateFileLeavesTheDataPlaneAsItIsWhileTheHubIsDown() throws Exception {
    lab.killHub();
    restartAWithStateFile("MWAS not a state file".getBytes(StandardCharsets.US_ASCII), "state file corrupt (");
  }

  @Test
  @Order(4)
  void anotherClustersStateFileIsRefusedAndTheDataPlaneLeftAsItIs() throws Exception {
    byte[] ofC = Files.readAllBytes(lab.agentStateDir("c").resolve("state.bin"));
    restartAWithStateFile(ofC, "state file refused (state file belongs to cluster c, this agent is cluster a)");
    try (var aside = Files.list(lab.agentStateDir("a"))) {
      assertTrue(aside.anyMatch(p -> p.getFileName().toString().startsWith("state.bin.refused-")), "set aside");
    }
  }

  @Test
  @Order(5)
  void whenTheHubReturnsTheAgentManagesItsDataPlaneAgainWithItsOwnKey() throws Exception {
    String keyOfA = peersOfA().stream().filter(l -> !l.contains(" ")).findFirst().orElseThrow();
    lab.startHub();
    MeshLab.awaitTrue(() -> lab.agentStatus("a").contains("\"data_plane_observe_only\":null"),
        Duration.ofSeconds(60), "a's state to be authoritative again");
    lab.awaitFullMesh(List.of("a", "b", "c"), Duration.ofSeconds(30));
    assertTrue(peersOfA().contains(keyOfA), "a kept its WireGuard key: " + peersOfA());
    assertTrue(lab.wgDump("b").contains(keyOfA) && lab.wgDump("c").contains(keyOfA), "peers know a by it");
  }

  @Test
  @Order(6)
  void aSecondAgentWithTheSameInterfaceNameRefusesToStartNamingTheOwner() throws Exception {
    List<String> before = peersOfA();
    String ifName = lab.cluster("a").wireGuardInterface();
    Path stateDir = Files.createDirectories(lab.agentStateDir("a").resolveSibling("agent-second"));
    String java = ProcessHandle.current().info().command().orElse("java");
    String jar = Path.of(System.getProperty("meshwire.jar", "../cli/target/meshwire.jar")).toAbsolutePath().toString();
    // In b's gateway namespace: another namespace, but the same host-wide UAPI socket directory.
    List<String> argv = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
    argv.addAll(AgentJvmOptions.fromJar(Path.of(jar)));
    argv.addAll(List.of("-cp", jar, "io.meshwire.agent.AgentMain",
        "--cluster-id", "second", "--state-dir", stateDir.toString(), "--hub", lab.hubAddress(),
        "--hub-ca", lab.hubDataDir().resolve("ca").resolve("ca.crt").toString(), "--join-token", "unused",
        "--interface", ifName, "--listen-port", "51999", "--endpoint", "198.18.0.250:51999",
        "--pod-cidrs", "10.119.0.0/16"));
    ExecResult second = lab.net().exec(lab.cluster("b").gateway(), Duration.ofSeconds(60), argv.toArray(String[]::new));

    assertEquals(1, second.exitCode(), second.stdout() + second.stderr());
    assertTrue(second.stderr().contains("interface " + ifName + " is in use by another meshwire agent (pid "),
        second.stderr());
    assertTrue(second.stderr().contains("cluster a, state dir " + lab.agentStateDir("a").toAbsolutePath().normalize()),
        second.stderr());
    assertEquals(before, peersOfA(), "a's key and peers untouched");
    assertEquals(0, lab.pingLoss("b", "a", 10, Duration.ofMillis(100)), "a still serves");
  }

  @Test
  @Order(7)
  void whenAGatewayAddressMovesPeersFollowWithinSecondsThroughTheAnnounce() throws Exception {
    var a = lab.cluster("a");
    String moved = "198.18.0.231";
    long bLogOffset = Files.size(lab.agentLog("b"));
    // The new address first, then the old one goes (promoted, so the new one and its routes stay).
    lab.net().exec(a.gateway(), "sysctl", "-w", "net.ipv4.conf." + a.uplink() + ".promote_secondaries=1").orThrow();
    lab.net().exec(a.gateway(), "ip", "address", "add", moved + "/24", "dev", a.uplink()).orThrow();
    long started = System.nanoTime();
    lab.net().exec(a.gateway(), "ip", "address", "del", a.publicAddress() + "/24", "dev", a.uplink()).orThrow();

    // b sets a's new endpoint because a announced it (WireGuard roaming would need a's next keepalive).
    awaitPeerEndpointSet("b", bLogOffset, moved + ":51820", Duration.ofSeconds(20),
        "b to set a's new endpoint from a's announce");
    long announcedMs = (System.nanoTime() - started) / 1_000_000;
    MeshLab.awaitTrue(() -> lab.wgDump("b").contains("\t" + moved + ":51820\t") && lab.ping("b", "a", 1),
        Duration.ofSeconds(10), "b to reach a at its new address");
    long ms = (System.nanoTime() - started) / 1_000_000;
    log.info("measured endpoint_move announced_to_b_ms={} b_pings_a_ms={}", announcedMs, ms);
    MeshLab.awaitTrue(() -> lab.ping("c", "a", 1), Duration.ofSeconds(10), "c to reach a at its new address");
  }

  @Test
  @Order(8)
  void behindNatTheEndpointFileIsFollowedAndAnnouncedWithinSeconds() throws Exception {
    // d's public address is what its platform says (a NAT's, say): a hook keeps it in a file.
    Path endpointFile = lab.agentStateDir("a").resolveSibling("d-endpoint");
    var d = lab.addCluster("d", "10.114.0.0/16", List.of("--endpoint-from-file", endpointFile.toString()));
    lab.awaitFullMesh(List.of("a", "b", "c", "d"), Duration.ofSeconds(60));
    String moved = "198.18.0.232";
    long bLogOffset = Files.size(lab.agentLog("b"));
    lab.net().exec(d.gateway(), "sysctl", "-w", "net.ipv4.conf." + d.uplink() + ".promote_secondaries=1").orThrow();
    lab.net().exec(d.gateway(), "ip", "address", "add", moved + "/24", "dev", d.uplink()).orThrow();
    // The hook writes the new address atomically: a temporary file renamed over the old one.
    Path tmp = endpointFile.resolveSibling("d-endpoint.tmp");
    Files.writeString(tmp, "# written by the platform hook\n" + moved + ":51820\n");
    long started = System.nanoTime();
    Files.move(tmp, endpointFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

    // b sets d's new endpoint because d announced it: d's packets still leave from the old address,
    // so WireGuard roaming alone would never move b to the new one.
    awaitPeerEndpointSet("b", bLogOffset, moved + ":51820", Duration.ofSeconds(10),
        "b to set d's endpoint from the file, through d's announce");
    long announcedMs = (System.nanoTime() - started) / 1_000_000;
    lab.net().exec(d.gateway(), "ip", "address", "del", d.publicAddress() + "/24", "dev", d.uplink()).orThrow();
    MeshLab.awaitTrue(() -> lab.wgDump("b").contains("\t" + moved + ":51820\t") && lab.ping("b", "d", 1),
        Duration.ofSeconds(20), "b to reach d at its new address");
    log.info("measured endpoint_file announced_to_b_ms={} b_pings_d_ms={}", announcedMs,
        (System.nanoTime() - started) / 1_000_000);
  }
}
