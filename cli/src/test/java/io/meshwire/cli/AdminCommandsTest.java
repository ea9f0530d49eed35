package io.meshwire.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import io.meshwire.agent.hub.HubClient;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.HubFixture;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.Cluster;
import io.meshwire.proto.admin.v1.CreateJoinTokenResponse;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.rendezvous.v1.LinkState;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin commands against a real hub in this JVM (TLS on 127.0.0.1, mesh test.mesh). */
class AdminCommandsTest extends AdminCliTest {

  /** Enrolls {@code clusterId} with a token from {@code meshwire token create}, as an operator would. */
  private TlsCredentials enroll(String clusterId) {
    String token = ok("token", "create", "--cluster", clusterId).out().strip();
    return HubClient.enroll(List.of(address), hub.ca().certificate(), "test.mesh", clusterId, token, clock);
  }

  /** Enrolls {@code clusterId} and announces its record; the client is closed after the test. */
  private HubClient announced(String clusterId, int n) {
    HubClient client = new HubClient(List.of(address), enroll(clusterId), clock);
    clusters.add(client);
    client.announce(HubFixture.record(clusterId, n, 1));
    return client;
  }

  @Test
  void enrolledClusterIsListedShownThenGoneAfterRevocation() throws Exception {
    announced("east", 1);
    CliRun list = ok("clusters", "list");
    List<String> lines = list.out().lines().toList();
    assertEquals(2, lines.size(), list.out());
    assertTrue(lines.get(0).matches(
        "CLUSTER +CONNECTED +REVOKED +GENERATION +REVISION +ENDPOINTS +POD CIDRS +LAST SEEN"), lines.get(0));
    assertTrue(lines.get(1).matches("east +no +no +1 +\\d+ +198\\.18\\.0\\.1:51820 +10\\.1\\.0\\.0/16 +\\d+s ago"),
        lines.get(1));
    assertEquals(lines.get(0).indexOf("CONNECTED"), lines.get(1).indexOf("no"), "columns aligned");

    ListClustersResponse.Builder parsed = ListClustersResponse.newBuilder();
    JsonFormat.parser().merge(ok("clusters", "list", "-o", "json").out(), parsed);
    assertEquals("east", parsed.getClusters(0).getRecord().getClusterId());
    assertFalse(parsed.getMeshUid().isEmpty());

    CliRun get = ok("clusters", "get", "east");
    assertTrue(get.out().matches("(?s)CLUSTER +east\n.*PEER CHANNEL +10\\.1\\.0\\.1:7444\n.*"), get.out());
    assertTrue(get.out().lines().anyMatch(l -> l.matches("ANNOUNCED LABELS +region=test")), get.out());
    assertTrue(get.out().lines().anyMatch(l -> l.matches("LABELS +-")), "announced labels are not the operator's");
    Cluster.Builder cluster = Cluster.newBuilder();
    JsonFormat.parser().merge(ok("clusters", "get", "east", "-o", "json").out(), cluster);
    assertEquals(HubFixture.record("east", 1, 1).getWireguardPublicKey(), cluster.getRecord().getWireguardPublicKey());

    assertTrue(ok("token", "list").out().lines().anyMatch(l -> l.matches("\\S+ +east +USED +.*")));

    assertTrue(ok("revoke", "east", "--reason", "decommissioned").out().matches("revoked east at revision \\d+\n"));
    assertFalse(ok("clusters", "list").out().contains("east"));
    CliRun audit = ok("audit");
    assertTrue(audit.out().startsWith("SEQ "), audit.out());
    assertTrue(audit.out().lines().anyMatch(l -> l.matches(
        "\\d+ +\\S+Z +spiffe://test.mesh/admin/admin +cluster\\.revoked +east +reason \"decommissioned\".*")), audit.out());
  }

  @Test
  void unknownClusterIsNotFoundOnOneLine() {
    CliRun run = admin("clusters", "get", "nope");
    assertEquals(1, run.exitCode(), run.toString());
    assertEquals("meshwire: NOT_FOUND: cluster_id: \"nope\" has no record\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void invalidArgumentFromTheHubNamesTheField() {
    CliRun run = admin("token", "create", "--cluster", "East_1");
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("meshwire: INVALID_ARGUMENT: cluster_id"), run.err());
  }

  @Test
  void tokenCreatePrintsTheTokenAloneAndJsonAddsItsInfo() throws Exception {
    String token = ok("token", "create", "--cluster", "west", "--ttl", "2h").out();
    assertTrue(token.matches("\\S+\n"), token);

    CreateJoinTokenResponse.Builder created = CreateJoinTokenResponse.newBuilder();
    JsonFormat.parser().merge(ok("token", "create", "--cluster", "west", "-o", "json").out(), created);
    assertFalse(created.getToken().isEmpty());
    assertEquals("west", created.getInfo().getClusterId());
    Timestamp expires = created.getInfo().getExpiresAt();
    Timestamp createdAt = created.getInfo().getCreatedAt();
    assertEquals(3600, expires.getSeconds() - createdAt.getSeconds(), "default ttl 1h");

    String tokenId = created.getInfo().getTokenId();
    assertEquals("revoked token " + tokenId + "\n", ok("token", "revoke", tokenId).out());
    List<String> rows = ok("token", "list").out().lines().toList();
    assertTrue(rows.get(0).matches("TOKEN ID +CLUSTER +STATE +CREATED +EXPIRES"), rows.get(0));
    assertTrue(rows.stream().anyMatch(l -> l.matches(tokenId + " +west +REVOKED +\\S+Z +\\S+Z")), rows.toString());
    assertTrue(rows.stream().anyMatch(l -> l.matches("\\S+ +west +ACTIVE +.*")), rows.toString());
  }

  @Test
  void removedClusterIsNoLongerListed() {
    announced("east", 1);
    announced("west", 2);
    assertTrue(ok("clusters", "remove", "west").out().matches("removed west at revision \\d+\n"));
    String list = ok("clusters", "list").out();
    assertTrue(list.contains("\neast "), list);
    assertFalse(list.contains("west"), list);
  }

  @Test
  void statusShowsTheLinkMatrixAfterAHeaderLine() {
    HubClient east = announced("east", 1);
    east.reportStatus(ReportStatusRequest.newBuilder()
        .setObservedAt(Timestamp.newBuilder().setSeconds(clock.instant().getEpochSecond()))
        .addPeers(PeerLinkStatus.newBuilder()
            .setPeerClusterId("west")
            .setState(LinkState.LINK_STATE_UP)
            .setLatestHandshake(Timestamp.newBuilder().setSeconds(clock.instant().getEpochSecond() - 30))
            .setEndpoint("198.18.0.2:51820")
            .setRxBytes(1536)
            .setTxBytes(100)
            .setPath(io.meshwire.proto.rendezvous.v1.LinkPath.LINK_PATH_RELAYED)
            .setPathSince(Timestamp.newBuilder().setSeconds(clock.instant().getEpochSecond() - 12)))
        .build());
    List<String> lines = ok("status").out().lines().toList();
    assertTrue(lines.get(0).matches("mesh_uid \\S+ +revision \\d+ +connected agents 0"), lines.get(0));
    assertTrue(lines.get(1).matches("FROM +TO +STATE +PATH +SWITCHED +HANDSHAKE AGE +ENDPOINT +RX +TX"), lines.get(1));
    assertTrue(lines.get(2).matches("east +west +UP +relayed +1\\ds +3\\ds +198\\.18\\.0\\.2:51820 +1\\.5 KiB +100 B"),
        lines.get(2));
    assertTrue(ok("status", "-o", "json").out().contains("\"state\": \"LINK_STATE_UP\""));
  }

  @Test
  void auditJsonIsOneArray() throws Exception {
    ok("token", "create", "--cluster", "east");
    String json = ok("audit", "-o", "json").out();
    assertTrue(json.startsWith("[\n  {\n"), json);
    assertTrue(json.endsWith("}\n]\n"), json);
    AuditEvent.Builder event = AuditEvent.newBuilder();
    JsonFormat.parser().merge(json.substring(json.indexOf('{'), json.lastIndexOf('}') + 1), event);
    assertEquals("token.created", event.getAction());
  }

  @Test
  void auditFollowPrintsNewEventsUntilInterrupted() throws Exception {
    ok("token", "create", "--cluster", "east");
    AtomicReference<CliRun> result = new AtomicReference<>();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    Thread follower = Thread.ofVirtual().start(() -> result.set(new CliRun(
        Main.commandLine(clock, new PrintWriter(out, true), new PrintWriter(err, true)).execute(
            "audit", "--follow", "--since", "0", "--hub", address.toString(),
            "--credentials", data.resolve("admin").toString()),
        out.toString(), err.toString())));
    await().atMost(Duration.ofSeconds(10)).until(() -> out.toString().contains("token.created"));
    ok("token", "create", "--cluster", "west");
    await().atMost(Duration.ofSeconds(10)).until(() -> out.toString().lines().count() == 2);
    assertTrue(out.toString().lines().allMatch(l -> l.matches("\\d+ +\\S+Z +spiffe://\\S+ +token\\.created +.*")), out.toString());

    follower.interrupt();
    follower.join(Duration.ofSeconds(10));
    assertFalse(follower.isAlive());
    assertEquals(0, result.get().exitCode(), result.get().toString());
  }

  @Test
  void missingCredentialsIsAUsageErrorNamingTheOptionAndTheVariable() {
    assumeTrue(System.getenv("MESHWIRE_CREDENTIALS") == null, "MESHWIRE_CREDENTIALS is set");
    CliRun run = CliRun.of(clock, "clusters", "list", "--hub", address.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("Missing admin credentials: use --credentials DIR or set MESHWIRE_CREDENTIALS"),
        run.err());
  }

  @Test
  void credentialDirectoryWithoutTheFilesNamesTheMissingFile() {
    CliRun run = CliRun.of(clock, "clusters", "list", "--hub", address.toString(), "--credentials", data.toString());
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("meshwire: " + data.resolve("admin.key")), run.err());
  }

  @Test
  void unreachableHubIsUnavailable() {
    hub.close();
    CliRun run = admin("clusters", "list");
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("meshwire: UNAVAILABLE: Connection refused: "), run.err());
    assertTrue(run.err().contains("is the hub running and listening on that address"), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
    hub = null;
  }

  /** An admin credential of another mesh (or of this hub before it lost its data) does not trust the hub. */
  @Test
  void credentialOfAnotherMeshSaysTheHubIsNotItsCa(@TempDir Path other) throws Exception {
    assertEquals(0, CliRun.of("ca", "init", "--mesh", "other.mesh", "--dir", other.toString()).exitCode());
    assertEquals(0, CliRun.of("ca", "issue", "--dir", other.toString(), "--role", "admin", "--name", "ops").exitCode());
    java.nio.file.Files.move(other.resolve("admin-ops.crt"), other.resolve("admin.crt"));
    java.nio.file.Files.move(other.resolve("admin-ops.key"), other.resolve("admin.key"));
    CliRun run = CliRun.of(clock, "clusters", "list", "--hub", address.toString(), "--credentials", other.toString());
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("meshwire: UNAVAILABLE: certificate spiffe://test.mesh/hub/"), run.err());
    assertTrue(run.err().contains("the hub's certificate does not chain to ca.crt of these credentials"), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
  }
}
