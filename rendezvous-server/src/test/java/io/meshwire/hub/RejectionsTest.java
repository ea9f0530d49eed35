package io.meshwire.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshwire.certs.Csrs;
import io.meshwire.certs.IssuedCredential;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad input gets its own status naming what is wrong, and the store is unchanged after it
 * (the admin's view of revision and records is the same before and after).
 */
class RejectionsTest {

  @TempDir Path data;
  HubFixture hub;
  TlsCredentials east;
  long revisionBefore;

  @BeforeEach
  void start() throws Exception {
    hub = new HubFixture(data);
    east = hub.enroll("east");
    RendezvousGrpc.newBlockingStub(hub.channel(east))
        .announce(AnnounceRequest.newBuilder().setRecord(HubFixture.record("east", 1, 1)).build());
    revisionBefore = revision();
  }

  @AfterEach
  void stop() throws Exception {
    assertEquals(revisionBefore, revision(), "a rejected call changed the store");
    hub.close();
  }

  private long revision() {
    return MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
        .listClusters(ListClustersRequest.getDefaultInstance()).getRevision();
  }

  private static StatusRuntimeException expect(Status.Code code, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    return e;
  }

  private void announceAs(TlsCredentials who, ClusterRecord record) {
    RendezvousGrpc.newBlockingStub(hub.channel(who)).announce(AnnounceRequest.newBuilder().setRecord(record).build());
  }

  static Stream<Arguments> badRecords() {
    return Stream.of(
        Arguments.of("record.pod_cidrs[0]: \"10.1.0.0/33\": prefix length out of range",
            (UnaryOperator<ClusterRecord.Builder>) b -> b.setPodCidrs(0, "10.1.0.0/33")),
        Arguments.of("record.pod_cidrs[1]: \"10.1.128.0/17\" overlaps record.pod_cidrs[0]",
            (UnaryOperator<ClusterRecord.Builder>) b -> b.addPodCidrs("10.1.128.0/17")),
        Arguments.of("record.service_cidrs[0]: \"10.1.5.0/24\" overlaps record.pod_cidrs[0]",
            (UnaryOperator<ClusterRecord.Builder>) b -> b.setServiceCidrs(0, "10.1.5.0/24")),
        Arguments.of("record.wireguard_public_key: must be 32 bytes, got 31",
            (UnaryOperator<ClusterRecord.Builder>) b -> b.setWireguardPublicKey(ByteString.copyFrom(new byte[31]))),
        Arguments.of("record.gateway_endpoints[0]: \"198.18.0.1\": expected host:port",
            (UnaryOperator<ClusterRecord.Builder>) b -> b.setGatewayEndpoints(0, "198.18.0.1")),
        Arguments.of("record.gateway_endpoints: 0 entries, expected 1..8",
            (UnaryOperator<ClusterRecord.Builder>) ClusterRecord.Builder::clearGatewayEndpoints),
        Arguments.of("record.wireguard_listen_port: 0 out of range 1..65535",
            (UnaryOperator<ClusterRecord.Builder>) b -> b.setWireguardListenPort(0)),
        Arguments.of("record.labels: key \"\" must be 1..63 characters",
            (UnaryOperator<ClusterRecord.Builder>) b -> b.putLabels("", "x")),
        Arguments.of("record.pod_cidrs: 17 entries, expected 1..16",
            (UnaryOperator<ClusterRecord.Builder>) b -> {
              for (int i = 0; i < 16; i++) {
                b.addPodCidrs("10.100." + i + ".0/24");
              }
              return b;
            }));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRecords")
  void malformedRecordIsInvalidArgumentNamingTheField(String message, UnaryOperator<ClusterRecord.Builder> breakIt) {
    ClusterRecord bad = breakIt.apply(HubFixture.record("east", 1, 2).toBuilder()).build();
    StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, () -> announceAs(east, bad));
    assertTrue(e.getStatus().getDescription().startsWith(message), e.getStatus().getDescription());
  }

  @Test
  void staleGenerationIsFailedPrecondition() {
    StatusRuntimeException e = expect(Status.Code.FAILED_PRECONDITION,
        () -> announceAs(east, HubFixture.record("east", 1, 1)));
    assertTrue(e.getStatus().getDescription().contains("record.generation: 1 is not greater"));
  }

  @Test
  void clusterAnnouncingAnotherClustersIdIsPermissionDenied() {
    StatusRuntimeException e = expect(Status.Code.PERMISSION_DENIED,
        () -> announceAs(east, HubFixture.record("west", 2, 1)));
    assertTrue(e.getStatus().getDescription().contains("differs from the caller's certificate"));
  }

  @Test
  void announceWithoutClientCertificateIsUnauthenticated() {
    expect(Status.Code.UNAUTHENTICATED, () -> announceAs(null, HubFixture.record("east", 1, 2)));
  }

  @Test
  void certificateFromAnotherCaIsUnauthenticated() {
    MeshCa foreign = MeshCa.create(hub.ca().mesh(), Duration.ofDays(10), InstantSource.system());
    IssuedCredential c = foreign.issue(new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east"), Duration.ofDays(1));
    TlsCredentials impostor = new TlsCredentials(c.privateKey(), List.of(c.certificate()), List.of(hub.ca().certificate()));
    StatusRuntimeException e = expect(Status.Code.UNAUTHENTICATED,
        () -> announceAs(impostor, HubFixture.record("east", 1, 2)));
    assertTrue(e.getStatus().getDescription().contains("UNKNOWN_CA"), e.getStatus().getDescription());
  }

  @Test
  void expiredCertificateIsUnauthenticated() {
    // The same CA, but made to sign with a clock a year in the past: the certificate has expired.
    MeshCa pastCa = MeshCa.load(data.resolve("ca"), InstantSource.fixed(Instant.now().minus(Duration.ofDays(365))));
    IssuedCredential c = pastCa.issue(new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east"), Duration.ofDays(1));
    TlsCredentials expired = new TlsCredentials(c.privateKey(), List.of(c.certificate()), List.of(hub.ca().certificate()));
    StatusRuntimeException e = expect(Status.Code.UNAUTHENTICATED,
        () -> announceAs(expired, HubFixture.record("east", 1, 2)));
    assertTrue(e.getStatus().getDescription().contains("EXPIRED"), e.getStatus().getDescription());
  }

  @Test
  void aCertificateThatExpiresWhileItsConnectionIsOpenIsRefusedOnTheConnectionsNextCall() {
    // Valid for ten more seconds. The first call verifies it (and the hub keeps that with the TLS
    // session); calls on the same connection after the expiry must not ride on that.
    MeshCa soonCa = MeshCa.load(data.resolve("ca"),
        InstantSource.fixed(Instant.now().minus(Duration.ofDays(1)).plusSeconds(10)));
    IssuedCredential c = soonCa.issue(new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "east"), Duration.ofDays(1));
    TlsCredentials expiring = new TlsCredentials(c.privateKey(), List.of(c.certificate()), List.of(hub.ca().certificate()));
    var stub = RendezvousGrpc.newBlockingStub(hub.channel(expiring));
    stub.reportStatus(ReportStatusRequest.getDefaultInstance());
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500))
        .untilAsserted(() -> {
          StatusRuntimeException e = expect(Status.Code.UNAUTHENTICATED,
              () -> stub.reportStatus(ReportStatusRequest.getDefaultInstance()));
          assertTrue(e.getStatus().getDescription().contains("EXPIRED"), e.getStatus().getDescription());
        });
  }

  @Test
  void adminCallWithAClusterCertificateIsPermissionDenied() {
    expect(Status.Code.PERMISSION_DENIED, () -> MeshAdminGrpc.newBlockingStub(hub.channel(east))
        .listClusters(ListClustersRequest.getDefaultInstance()));
  }

  @Test
  void replayedTokenIsUnauthenticatedAndTamperedTokenToo() {
    String token = hub.createToken("west");
    KeyPair keys = Csrs.newKeyPair();
    byte[] csr = Csrs.create(keys, new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "west"));
    var enroll = EnrollmentGrpc.newBlockingStub(hub.channel(null));
    EnrollRequest request = EnrollRequest.newBuilder().setJoinToken(token).setCsrDer(ByteString.copyFrom(csr)).build();
    enroll.enroll(request);
    expect(Status.Code.UNAUTHENTICATED, () -> enroll.enroll(request));
    String other = hub.createToken("north");
    String tampered = other.substring(0, other.length() - 2) + (other.endsWith("A") ? "BB" : "AA");
    expect(Status.Code.UNAUTHENTICATED, () -> enroll.enroll(request.toBuilder().setJoinToken(tampered).build()));
  }

  @Test
  void csrForAnotherClusterThanTheTokenIsInvalidAndDoesNotSpendTheToken() {
    String token = hub.createToken("west");
    KeyPair keys = Csrs.newKeyPair();
    byte[] wrong = Csrs.create(keys, new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "north"));
    var enroll = EnrollmentGrpc.newBlockingStub(hub.channel(null));
    StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, () -> enroll.enroll(
        EnrollRequest.newBuilder().setJoinToken(token).setCsrDer(ByteString.copyFrom(wrong)).build()));
    assertTrue(e.getStatus().getDescription().startsWith("csr_der: "), e.getStatus().getDescription());
    byte[] right = Csrs.create(keys, new SpiffeId(hub.ca().mesh(), Role.CLUSTER, "west"));
    enroll.enroll(EnrollRequest.newBuilder().setJoinToken(token).setCsrDer(ByteString.copyFrom(right)).build());
  }

  @Test
  void revokedCertificateIsUnauthenticatedFromTheNextCall() {
    TlsCredentials west = hub.enroll("west");
    MeshAdminGrpc.newBlockingStub(hub.channel(hub.admin()))
        .revokeCluster(RevokeClusterRequest.newBuilder().setClusterId("west").setReason("test").build());
    StatusRuntimeException e = expect(Status.Code.UNAUTHENTICATED,
        () -> announceAs(west, HubFixture.record("west", 2, 1)));
    assertTrue(e.getStatus().getDescription().contains("revoked"), e.getStatus().getDescription());
  }
}
