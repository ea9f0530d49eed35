package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.hub.HubClient;
import io.meshwire.hub.HubFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code token create --label}, {@code clusters label} and {@code policy ...} against a real hub in this JVM. */
class PolicyCommandsTest extends AdminCliTest {

  private static final String GROUPS = """
      apiVersion: meshwire.io/v1alpha1
      kind: PeeringPolicy
      metadata: {name: prod}
      spec:
        mode: direct
        clusters: {matchLabels: {env: prod}}
        peers:
          matchExpressions: [{key: env, operator: In, values: [prod]}]
      ---
      apiVersion: meshwire.io/v1alpha1
      kind: PeeringPolicy
      metadata: {name: dev}
      spec: {mode: direct, clusters: {matchLabels: {env: dev}}, peers: {matchLabels: {env: dev}}}
      """;

  private void join(String id, int n, String label) {
    String token = ok("token", "create", "--cluster", id, "--label", label).out().strip();
    HubClient client = new HubClient(List.of(address),
        HubClient.enroll(List.of(address), hub.ca().certificate(), "test.mesh", id, token, clock), clock);
    clusters.add(client);
    client.announce(HubFixture.record(id, n, 1));
  }

  @Test
  void operatorLabelsPoliciesAndExplainThroughTheCommandLine() throws Exception {
    join("p1", 1, "env=prod");
    join("p2", 2, "env=prod");
    join("d1", 3, "env=dev");
    Path file = data.resolve("policy.yaml");
    Files.writeString(file, GROUPS);

    CliRun applied = ok("policy", "apply", "-f", file.toString());
    assertTrue(applied.out().matches("(?s)policy prod applied at revision \\d+, agents changed 3\n"
        + "policy dev applied at revision \\d+, agents changed 0\n"), applied.out());
    assertEquals("policy prod unchanged\npolicy dev unchanged\n", ok("policy", "apply", "-f", file.toString()).out());

    List<String> list = ok("policy", "list").out().lines().toList();
    assertTrue(list.get(0).matches("POLICY +MODE +CLUSTERS +PEERS"), list.get(0));
    assertTrue(list.contains("prod    direct  env=prod  env in (prod)") || list.stream()
        .anyMatch(l -> l.matches("prod +direct +env=prod +env in \\(prod\\)")), list.toString());
    assertEquals("default peering: allow", list.get(list.size() - 1));

    // get prints what apply reads: applying it again changes nothing.
    Files.writeString(file, ok("policy", "get", "prod").out());
    assertEquals("policy prod unchanged\n", ok("policy", "apply", "-f", file.toString()).out());

    CliRun explain = ok("policy", "explain", "p1", "d1");
    assertTrue(explain.out().lines().anyMatch(l -> l.matches("DECISION +not connected")), explain.out());
    assertTrue(explain.out().lines().anyMatch(l -> l.matches("LABELS d1 +env=dev")), explain.out());
    assertTrue(explain.out().contains("p1 -> d1: not allowed: p1 is selected by prod, none of which selects d1"),
        explain.out());

    assertTrue(ok("clusters", "label", "d1", "env=prod", "team=a").out()
        .matches("d1 labels \\{env=prod, team=a\\} at revision \\d+, agents changed 3\n"));
    assertTrue(ok("clusters", "get", "d1").out().lines().anyMatch(l -> l.matches("LABELS +env=prod,team=a")));
    assertTrue(ok("clusters", "label", "d1", "team-").out().matches("d1 labels \\{env=prod\\} at revision \\d+, agents changed 0\n"));
    assertTrue(ok("policy", "explain", "p1", "d1").out().lines().anyMatch(l -> l.matches("DECISION +direct")));

    assertTrue(ok("policy", "delete", "dev").out().matches("policy dev deleted at revision \\d+, agents changed 0\n"));
  }

  @Test
  void badInputNamesTheFieldOrPathAndChangesNothing() throws Exception {
    join("p1", 1, "env=prod");
    join("p2", 2, "env=prod");
    Path file = data.resolve("bad.yaml");
    Files.writeString(file, GROUPS.replace("operator: In", "operator: Into"));
    CliRun bad = admin("policy", "apply", "-f", file.toString());
    assertEquals(1, bad.exitCode());
    assertTrue(bad.err().contains("INVALID_ARGUMENT: policy.peers.matchExpressions[0].operator: \"Into\" is not one of "
        + "In, NotIn, Exists, DoesNotExist"), bad.err());

    Files.writeString(file, GROUPS.replace("mode: direct\n", "mode: direct\n  colour: blue\n"));
    bad = admin("policy", "apply", "-f", file.toString());
    assertTrue(bad.err().contains(file + " document 1: spec.colour: unknown field"), bad.err());

    Files.writeString(file, """
        apiVersion: meshwire.io/v1alpha1
        kind: PeeringPolicy
        metadata: {name: deny-all}
        spec: {mode: deny, clusters: {}, peers: {}}
        """);
    bad = admin("policy", "apply", "-f", file.toString());
    assertTrue(bad.err().contains("FAILED_PRECONDITION: this change would isolate every cluster"), bad.err());

    bad = admin("clusters", "label", "p1", "env=prod!");
    assertTrue(bad.err().contains("INVALID_ARGUMENT: set[env]: \"prod!\" is not a valid label value"), bad.err());
    bad = admin("clusters", "label", "p1", "env");
    assertTrue(bad.err().contains("label \"env\": write key=value to set it or key- to remove it"), bad.err());

    assertTrue(ok("policy", "list").out().startsWith("POLICY"));
    assertEquals(2, ok("policy", "list").out().lines().count(), "no policy was stored");
    assertTrue(ok("policy", "apply", "-f", file.toString(), "--force").out().startsWith("policy deny-all applied"));
  }
}
