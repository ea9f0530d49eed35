package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.CidrMapping;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PeerView;
import io.meshwire.proto.rendezvous.v1.PublishViewsRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The defects an outside probe found (issue 12), each as a call from a real client over TLS: the
 * hub refuses the input with INVALID_ARGUMENT naming the field, stores nothing, and restarts on
 * its store afterwards.
 */
class HubHardeningTest {

  @TempDir Path data;
  HubFixture hub;
  TlsCredentials east;
  TlsCredentials west;

  @BeforeEach
  void start() throws Exception {
    hub = new HubFixture(data);
    east = hub.enroll("east");
    west = hub.enroll("west");
    announce(east, HubFixture.record("east", 1, 1));
    announce(west, HubFixture.record("west", 2, 1));
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  private void announce(TlsCredentials who, ClusterRecord record) {
    RendezvousGrpc.newBlockingStub(hub.channel(who)).announce(AnnounceRequest.newBuilder().setRecord(record).build());
  }

  /** What the store holds as the admin API shows it: the revision and every record. */
  private java.util.List<Object> clusters() {
    ListClustersResponse r = MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
        .listClusters(ListClustersRequest.getDefaultInstance());
    return java.util.List.of(r.getRevision(), r.getMeshUid(),
        r.getClustersList().stream().map(io.meshwire.proto.admin.v1.Cluster::getRecord).toList());
  }

  private static StatusRuntimeException expect(Status.Code code, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    return e;
  }

  /** Refused, nothing stored, and the hub comes back on its store (defect 1 bricked it). */
  private void assertRefusedAndRestarts(Status.Code code, String descriptionStart, Runnable call) throws Exception {
    Object before = clusters();
    StatusRuntimeException e = expect(code, call);
    assertTrue(e.getStatus().getDescription().startsWith(descriptionStart), e.getStatus().getDescription());
    assertEquals(before, clusters(), "a refused call changed the store");
    hub.restart();
    assertEquals(before, clusters(), "the store changed across a restart");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "pod_cidrs | record.pod_cidrs[0]: \"::ffff:10.0.0.0/112\": IPv4-mapped IPv6 address",
    "service_cidrs | record.service_cidrs[0]: \"::ffff:10.0.0.0/112\": IPv4-mapped IPv6 address",
  })
  void ipv4MappedIpv6CidrIsRefusedAndTheHubStillRestarts(String field, String message) throws Exception {
    ClusterRecord.Builder b = HubFixture.record("east", 1, 2).toBuilder();
    if (field.equals("pod_cidrs")) {
      b.setPodCidrs(0, "::ffff:10.0.0.0/112");
    } else {
      b.setServiceCidrs(0, "::ffff:10.0.0.0/112");
    }
    assertRefusedAndRestarts(Status.Code.INVALID_ARGUMENT, message, () -> announce(east, b.build()));
    announce(east, HubFixture.record("east", 1, 3)); // and a later valid announce is accepted
  }

  @Test
  void ipv4MappedIpv6ViewMappingIsRefusedAndTheHubStillRestarts() throws Exception {
    PublishViewsRequest request = PublishViewsRequest.newBuilder().addViews(PeerView.newBuilder()
        .setSubjectClusterId("west")
        .addMappings(CidrMapping.newBuilder().setOriginal("10.2.0.0/16").setSeenAs("::ffff:10.0.0.0/112"))
        .setGeneration(1)).build();
    assertRefusedAndRestarts(Status.Code.INVALID_ARGUMENT,
        "views[0].mappings[0].seen_as: \"::ffff:10.0.0.0/112\": IPv4-mapped IPv6 address",
        () -> RendezvousGrpc.newBlockingStub(hub.channel(east)).publishViews(request));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "0.0.0.0/0 | default route",
    "::/0 | default route",
    "0.0.0.0/1 | default route half",
    "128.0.0.0/1 | default route half",
    "0.0.0.0/8 | \"this network\"",
    "127.0.0.0/8 | loopback",
    "224.0.0.0/4 | wider than /8",
    "224.0.0.0/8 | multicast",
    "169.254.0.0/16 | link-local",
    "fe80::/10 | wider than /32",
    "fe80::/64 | link-local",
    "10.0.0.0/7 | wider than /8",
    "2001:db8::/31 | wider than /32",
  })
  void specialOrCatchAllRangeIsRefusedAsPodCidr(String cidr, String reason) throws Exception {
    ClusterRecord bad = HubFixture.record("east", 1, 2).toBuilder().setPodCidrs(0, cidr).build();
    StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, () -> announce(east, bad));
    String description = e.getStatus().getDescription();
    assertTrue(description.startsWith("record.pod_cidrs[0]: " + cidr) && description.contains(reason), description);
  }

  @Test
  void widestPrefixIsConfigurable() throws Exception {
    hub.restart(java.util.Map.of("max-cidr-prefix", "/16,/48"));
    ClusterRecord wide = HubFixture.record("east", 1, 2).toBuilder().setPodCidrs(0, "10.0.0.0/12").build();
    StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, () -> announce(east, wide));
    assertTrue(e.getStatus().getDescription().contains("wider than /16"), e.getStatus().getDescription());
    announce(east, HubFixture.record("east", 1, 2)); // a /16 is fine
  }

  @ParameterizedTest(name = "generation {0}")
  @ValueSource(strings = {"9223372036854775807", "9223372036854775808", "18446744073709551615",
      "9007199254740992"})
  void generationOutsideTheRangeIsRefusedNamingTheRange(String generation) throws Exception {
    ClusterRecord bad = HubFixture.record("east", 1, 2).toBuilder()
        .setGeneration(Long.parseUnsignedLong(generation)).build();
    assertRefusedAndRestarts(Status.Code.INVALID_ARGUMENT,
        "record.generation: " + generation + " out of range 1..9007199254740991", () -> announce(east, bad));
  }

  @Test
  void wireGuardKeyHeldByAnotherClusterIsAlreadyExists() throws Exception {
    ClusterRecord copied = HubFixture.record("west", 2, 2).toBuilder()
        .setWireguardPublicKey(HubFixture.record("east", 1, 1).getWireguardPublicKey()).build();
    assertRefusedAndRestarts(Status.Code.ALREADY_EXISTS,
        "record.wireguard_public_key: " + java.util.Base64.getEncoder().encodeToString(
            HubFixture.record("east", 1, 1).getWireguardPublicKey().toByteArray())
            + " is already held by cluster \"east\"", () -> announce(west, copied));
    // The key is free again once its holder moves to another key.
    announce(east, HubFixture.record("east", 1, 2));
    announce(west, copied);
  }

  @Test
  void hugeClusterIdIsQuotedWithABoundedPrefixAndItsLength() {
    String huge = "a".repeat(10_000);
    ClusterRecord bad = HubFixture.record("east", 1, 2).toBuilder().setClusterId(huge).build();
    StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, () -> announce(east, bad));
    String description = e.getStatus().getDescription();
    assertTrue(description.length() < 400, description.length() + " chars: " + description);
    assertTrue(description.contains("(10000 chars)"), description);
  }

  @Test
  void hugeEndpointIsQuotedWithABoundedPrefixAndItsLength() {
    String huge = "x".repeat(1 << 20) + ":51820";
    ClusterRecord bad = HubFixture.record("east", 1, 2).toBuilder().setGatewayEndpoints(0, huge).build();
    StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, () -> announce(east, bad));
    String description = e.getStatus().getDescription();
    assertTrue(description.length() < 400, description.length() + " chars");
    assertTrue(description.startsWith("record.gateway_endpoints[0]: ") && description.contains("(1048582 chars)"),
        description.substring(0, Math.min(description.length(), 400)));
  }

  @Test
  void temporaryFilesLeftByAKilledRewriteAreRemovedAtStart() throws Exception {
    java.nio.file.Path tokensTemp = data.resolve(".tokens.json.tmp-0123456789ab");
    java.nio.file.Path caTemp = data.resolve("ca").resolve(".ca.crt.tmp-ba9876543210");
    java.nio.file.Files.write(tokensTemp, new byte[300_000]);
    java.nio.file.Files.write(caTemp, new byte[10]);
    java.nio.file.Path unrelated = data.resolve("notes.tmp-0123456789ab");
    java.nio.file.Files.writeString(unrelated, "mine");

    hub.restart();

    assertTrue(java.nio.file.Files.notExists(tokensTemp), "tokens temp file left");
    assertTrue(java.nio.file.Files.notExists(caTemp), "CA temp file left");
    assertTrue(java.nio.file.Files.exists(unrelated), "a file the hub does not name was deleted");
    hub.enroll("north"); // tokens still work
  }

  @Test
  void joinTokenTtlOutOfRangeIsInvalidArgumentNotAnOverflow() throws Exception {
    // Found by HubFuzzTest: seconds and nanos that overflow a Duration answered UNKNOWN.
    var admin = MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()));
    StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, () -> admin.createJoinToken(
        io.meshwire.proto.admin.v1.CreateJoinTokenRequest.newBuilder().setClusterId("north")
            .setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(Long.MAX_VALUE).setNanos(-1)).build()));
    assertTrue(e.getStatus().getDescription().startsWith("ttl: "), e.getStatus().getDescription());
  }
}
