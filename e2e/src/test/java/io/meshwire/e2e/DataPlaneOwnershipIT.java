package io.meshwire.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.testsupport.lab.MeshLab;
import io.meshwire.testsupport.netns.ExecResult;
import io.meshwire.testsupport.netns.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * first agent).
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

  private static void awaitFullMesh(List<String> names, Duration timeout) {
    for (String from : names) {
      for (String to : names) {
        if (!from.equals(to)) {
          MeshLab.awaitTrue(() -> lab.ping(from, to, 1), timeout, "ping " + from + " -> " + to);
        }
      }
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
    awaitFullMesh(List.of("a", "b", "c"), Duration.ofSeconds(60));
  }

  @Test
  @Order(2)
  void wireguardGoKeepsServingAfterTwoAgentRestartsAndALogLine() throws Exception {
    ProcessHandle wgGo = wireguardGo("a").orElseThrow(() -> new AssertionError("no wireguard-go serving a"));
    Path agentLog = lab.agentLog("a");

    long offset = Files.size(agentLog);
    lab.stopAgent("a", false); // SIGTERM: the agent's shutdown runs
    String shutdown = logSince(agentLog, offset);
    assertEquals(1, shutdown.lines().filter(l -> l.contains("data plane left running on purpose")).count(),
        "one shutdown line saying the data plane stays:\n" + shutdown);
    assertTrue(shutdown.contains("wireguard_go_pid=" + wgGo.pid()), shutdown);
    lab.startAgent("a");
    lab.stopAgent("a", true); // SIGKILL: no shutdown at all
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
}
