package io.meshwire.agent.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.hub.FakeHubConnection;
import io.meshwire.agent.hub.HubConnection;
import io.meshwire.certs.FakeClock;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Pem;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster identity without a network: enrollment with the join token when there is no
 * certificate, renewal at 2/3 of the lifetime on a fake clock, the credential files written as
 * one set, and the settings a start needs.
 */
class ClusterIdentityTest {

  private static final Duration LIFETIME = Duration.ofDays(90);

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private final MeshCa ca = MeshCa.create("mesh.test", Duration.ofDays(3650), clock);
  private final SpiffeId east = new SpiffeId("mesh.test", Role.CLUSTER, "east");
  private final FakeHubConnection hub = new FakeHubConnection();
  private final List<String> enrollments = new ArrayList<>();
  private final List<TlsCredentials> opened = new ArrayList<>();
  private final List<TlsCredentials> ready = new ArrayList<>();
  private final List<TlsCredentials> renewed = new ArrayList<>();

  private TlsCredentials issue() {
    return TlsCredentials.of(ca.issue(east, LIFETIME));
  }

  private ClusterIdentity identity(Optional<String> token, Optional<Path> hubCa) {
    return new ClusterIdentity(dir, "east", token, hubCa, clock,
        (caCert, mesh, cluster, joinToken) -> {
          enrollments.add(mesh + "/" + cluster + "/" + joinToken);
          return issue();
        },
        creds -> {
          opened.add(creds);
          return hub;
        }, ready::add, renewed::add);
  }

  private Path hubCaFile() {
    Path file = dir.resolve("given-ca.pem");
    Pem.writeCertificates(file, List.of(ca.certificate()));
    return file;
  }

  @Test
  void withoutACertificateItEnrollsWithTheJoinTokenAndKeepsTheCredentials() throws IOException {
    ClusterIdentity identity = identity(Optional.of("tok"), Optional.of(hubCaFile()));
    HubConnection c = identity.connect();
    assertSame(hub, c);
    assertEquals(List.of("mesh.test/east/tok"), enrollments);
    TlsCredentials stored = identity.stored().orElseThrow();
    assertEquals(opened.get(0).leaf(), stored.leaf());
    assertEquals(opened.get(0).privateKey(), stored.privateKey());
    assertEquals(List.of(ca.certificate()), stored.trustAnchors());
    assertEquals(1, ready.size());
    assertSame(hub, identity.connect(), "one connection");
    assertEquals(1, enrollments.size());
  }

  @Test
  void withACertificateItConnectsWithoutEnrolling() throws IOException {
    issue().writeTo(dir, "cluster");
    identity(Optional.empty(), Optional.empty()).connect();
    assertEquals(List.of(), enrollments);
    assertEquals(1, opened.size());
  }

  @Test
  void renewalIsDueAtTwoThirdsOfTheLifetime() throws IOException {
    TlsCredentials first = issue();
    first.writeTo(dir, "cluster");
    Instant notBefore = first.leaf().getNotBefore().toInstant();
    Instant notAfter = first.leaf().getNotAfter().toInstant();
    Instant due = ClusterIdentity.renewalDue(first.leaf());
    assertEquals(Duration.between(notBefore, notAfter).multipliedBy(2).dividedBy(3), Duration.between(notBefore, due));

    ClusterIdentity identity = identity(Optional.empty(), Optional.empty());
    hub.renewer = id -> {
      assertEquals(east, id);
      return issue();
    };
    clock.set(due.minusSeconds(1));
    identity.renewIfDue(hub);
    assertEquals(List.of(), renewed, "not yet");
    assertEquals(first.leaf(), identity.stored().orElseThrow().leaf());

    clock.set(due);
    identity.renewIfDue(hub);
    assertEquals(1, renewed.size());
    TlsCredentials now = identity.stored().orElseThrow();
    assertNotEquals(first.leaf(), now.leaf());
    assertEquals(renewed.get(0).leaf(), now.leaf());
    assertEquals(renewed.get(0).privateKey(), now.privateKey(), "the new key with the new certificate");
    assertEquals(List.of(now.leaf()), hub.usedCredentials.stream().map(TlsCredentials::leaf).toList());
    assertEquals(List.of(".", "ca.crt", "cluster.crt", "cluster.key"), names(), "no journal or temporary file left");
  }

  @Test
  void aFailedRenewalKeepsTheOldCredentials() throws IOException {
    TlsCredentials first = issue();
    first.writeTo(dir, "cluster");
    ClusterIdentity identity = identity(Optional.empty(), Optional.empty());
    hub.renewer = id -> {
      throw io.grpc.Status.UNAVAILABLE.asRuntimeException();
    };
    clock.set(ClusterIdentity.renewalDue(first.leaf()));
    identity.renewInBackground(hub); // logged, not thrown
    assertEquals(first.leaf(), identity.stored().orElseThrow().leaf());
    assertEquals(List.of(), renewed);
  }

  @Test
  void aStartWithoutCertificateNeedsAJoinTokenAndAHubCa() {
    IllegalArgumentException noToken = assertThrows(IllegalArgumentException.class,
        () -> ClusterIdentity.checkConfigured(dir, Optional.empty(), Optional.of(hubCaFile())));
    assertTrue(noToken.getMessage().startsWith("join-token:"), noToken.getMessage());
    IllegalArgumentException noCa = assertThrows(IllegalArgumentException.class,
        () -> ClusterIdentity.checkConfigured(dir, Optional.of("tok"), Optional.empty()));
    assertTrue(noCa.getMessage().startsWith("hub-ca:"), noCa.getMessage());
    ClusterIdentity.checkConfigured(dir, Optional.of("tok"), Optional.of(hubCaFile()));
  }

  @Test
  void aStartWithACertificateNeedsNeitherTokenNorHubCa() {
    issue().writeTo(dir, "cluster");
    ClusterIdentity.checkConfigured(dir, Optional.empty(), Optional.empty());
  }

  @Test
  void resetClosesTheConnectionAndTheNextConnectReadsTheFilesAgain() throws IOException {
    issue().writeTo(dir, "cluster");
    ClusterIdentity identity = identity(Optional.empty(), Optional.empty());
    identity.connect();
    TlsCredentials replaced = issue(); // e.g. an operator's rejoin wrote new files
    replaced.writeTo(dir, "cluster");
    identity.reset();
    assertTrue(hub.closed);
    assertEquals(Optional.empty(), identity.current());
    identity.connect();
    assertEquals(replaced.leaf(), opened.get(1).leaf());
  }

  private List<String> names() throws IOException {
    try (Stream<Path> files = Files.walk(dir, 1)) {
      return files.map(p -> dir.equals(p) ? "." : p.getFileName().toString()).sorted().toList();
    }
  }
}
