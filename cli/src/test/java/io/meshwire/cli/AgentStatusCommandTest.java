package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import io.meshwire.observability.MetricsListener;
import io.meshwire.observability.MetricsListener.Response;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code meshwire agent-status} against a real HTTP listener serving an agent's {@code /status}
 * (the observability listener the agent uses), in this JVM and as its own process.
 */
class AgentStatusCommandTest {

  /** What an agent with two peers answers (the shape of the agent's status JSON). */
  private static final String STATUS = """
      {"cluster":"east","hub_connected":false,"hub":{"condition":"REFUSED","since":"2026-12-06T21:05:00Z",\
      "detail":"the hub's certificate is not of this agent's mesh (UNKNOWN_CA)"},"caught_up":true,"mesh_uid":"5fee278e","revision":42,\
      "state_written_at":"2026-12-06T21:00:00Z","held":"hub mesh changed","state_problem":null,\
      "reflection":{"exported":3,"sources":1},"peers":[\
      {"cluster":"west","state":"UP","endpoint":"192.0.2.7:51820","handshake_age_seconds":12,"rx_bytes":1536,\
      "tx_bytes":100,"pod_cidrs":"[10.1.0.0/16]","view":{"condition":"REMAPPED","detail":"x"},"seen_as":["100.64.0.0/16"],\
      "path":"relayed","path_since":"2026-12-06T21:04:00Z"},\
      {"cluster":"north","state":"DOWN","endpoint":null,"handshake_age_seconds":null,"rx_bytes":0,"tx_bytes":0,\
      "pod_cidrs":"[10.2.0.0/16]","view":null,"seen_as":["10.2.0.0/16"]}]}
      """;

  private final List<MetricsListener> listeners = new ArrayList<>();

  @AfterEach
  void stop() {
    listeners.forEach(MetricsListener::close);
  }

  private String agentServing(Map<String, java.util.function.Supplier<Response>> routes) {
    MetricsListener http = MetricsListener.start(new HostPort("127.0.0.1", 0),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), routes);
    listeners.add(http);
    return "127.0.0.1:" + http.port();
  }

  private String agent() {
    return agentServing(Map.of("/status", () -> new Response(200, "application/json", STATUS)));
  }

  @Test
  void tableShowsTheAgentAndOneRowPerPeer() {
    CliRun run = CliRun.of("agent-status", "--agent", agent());
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals("", run.err());
    List<String> lines = run.out().lines().toList();
    assertTrue(lines.contains("cluster         east"), run.out());
    assertTrue(lines.contains("hub             refused since 2026-12-06T21:05:00Z"), run.out());
    assertTrue(lines.contains("hub detail      the hub's certificate is not of this agent's mesh (UNKNOWN_CA)"), run.out());
    assertTrue(lines.contains("caught up       yes"), run.out());
    assertTrue(lines.contains("held            hub mesh changed"), run.out());
    assertTrue(lines.contains("reflection      exported 3, imported from 1 peer(s)"), run.out());
    assertTrue(run.out().lines().noneMatch(l -> l.startsWith("state problem")), "null fields are left out\n" + run.out());
    assertTrue(lines.stream().anyMatch(l -> l.matches("PEER +STATE +ENDPOINT +HANDSHAKE AGE +RX +TX +SEEN AS +VIEW +PATH +PATH SINCE")),
        run.out());
    assertTrue(lines.stream().anyMatch(l -> l.matches("west +UP +192\\.0\\.2\\.7:51820 +12s +1\\.5 KiB +100 B +100\\.64\\.0\\.0/16 +REMAPPED"
        + " +relayed +2026-12-06T21:04:00Z")),
        run.out());
    assertTrue(lines.stream().anyMatch(l -> l.matches("north +DOWN +- +- +0 B +0 B +10\\.2\\.0\\.0/16 +- +- +-")),
        "an agent without path selection: no path\n" + run.out());
  }

  @Test
  void jsonIsTheAgentsAnswerAsIs() {
    CliRun run = CliRun.of("agent-status", "--agent", agent(), "-o", "json");
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals(STATUS, run.out());
  }

  /** The command as its own process: what it printed reaches stdout before the JVM exits. */
  @Test
  void processPrintsTheStatusBeforeExiting() throws Exception {
    String agent = agent();
    JavaProcess.Result json = meshwire("agent-status", "--agent", agent, "-o", "json");
    assertEquals(0, json.exitCode(), json.toString());
    assertEquals(STATUS, json.stdout(), json.toString());
    JavaProcess.Result table = meshwire("agent-status", "--agent", agent);
    assertEquals(0, table.exitCode(), table.toString());
    assertTrue(table.stdout().startsWith("cluster         east\n"), table.toString());
  }

  @Test
  void noAgentSaysWhichAddressWasTriedAndWhatToCheck() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    JavaProcess.Result run = meshwire("agent-status", "--agent", "127.0.0.1:" + closed);
    assertEquals(1, run.exitCode(), run.toString());
    assertEquals("", run.stdout());
    assertEquals(1, run.stderr().lines().count(), run.toString());
    assertTrue(run.stderr().startsWith("meshwire: no agent answers at http://127.0.0.1:" + closed + "/status"
        + " (connection refused). Is the agent running on this host"), run.toString());
    assertTrue(run.stderr().contains("--metrics-listen"), run.toString());
    assertTrue(run.stderr().contains("--agent HOST:PORT"), run.toString());
  }

  @Test
  void somethingElseOnThePortIsNamed() {
    String notAnAgent = agentServing(Map.of());
    CliRun run = CliRun.of("agent-status", "--agent", notAnAgent);
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("meshwire: http://" + notAnAgent + "/status answered HTTP 404: is it the agent's"
        + " --metrics-listen address?"), run.toString());

    String garbage = agentServing(Map.of("/status", () -> new Response(200, "text/plain", "hello\n")));
    CliRun bad = CliRun.of("agent-status", "--agent", garbage);
    assertEquals(1, bad.exitCode(), bad.toString());
    assertTrue(bad.err().startsWith("meshwire: http://" + garbage + "/status answered something that is not an agent's"
        + " status JSON"), bad.toString());
  }

  @Test
  void badAddressIsAUsageError() {
    CliRun run = CliRun.of("agent-status", "--agent", "nowhere");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("Invalid value for option '--agent': "), run.toString());
  }

  /** Runs {@code meshwire args...} as a separate JVM on this test's class path. */
  static JavaProcess.Result meshwire(String... args) throws Exception {
    return JavaProcess.run(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()), args);
  }
}
