package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.agent.hub.HubClient;
import io.meshwire.agent.hub.HubErrors;
import io.meshwire.agent.identity.Rejoin;
import io.meshwire.certs.Pem;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub that lost its data (a new hub process on an empty data directory: new CA, new mesh UID)
 * and a cluster enrolled with the old one, over real TLS on 127.0.0.1.
 */
class AgentRejoinCommandTest {

  private final InstantSource clock = InstantSource.system();

  @TempDir Path oldHubDir;
  @TempDir Path newHubDir;
  @TempDir Path stateDir;
  @TempDir Path work;

  private static HostPort address(HubFixture hub) {
    return new HostPort("127.0.0.1", hub.port());
  }

  private String token(HubFixture hub, Path dataDir, String cluster) {
    CliRun run = CliRun.of(clock, "token", "create", "--cluster", cluster, "--hub", address(hub).toString(),
        "--credentials", dataDir.resolve("admin").toString());
    assertEquals(0, run.exitCode(), run.toString());
    return run.out().strip();
  }

  /** Enrolls east with the old hub and writes its credentials as the agent does; the old hub is then gone. */
  private TlsCredentials enrolledWithTheLostHub() throws Exception {
    try (HubFixture lost = new HubFixture(oldHubDir)) {
      TlsCredentials creds = HubClient.enroll(List.of(address(lost)), lost.ca().certificate(), "test.mesh", "east",
          token(lost, oldHubDir, "east"), clock);
      Pem.writePrivateKey(stateDir.resolve("cluster.key"), creds.privateKey());
      Pem.writeCertificates(stateDir.resolve("cluster.crt"), creds.chain());
      Pem.writeCertificates(stateDir.resolve("ca.crt"), creds.trustAnchors());
      return creds;
    }
  }

  @Test
  void theAgentsOldCredentialsSayTheHubsIdentityChanged() throws Exception {
    TlsCredentials old = enrolledWithTheLostHub();
    try (HubFixture hub = new HubFixture(newHubDir);
        HubClient client = new HubClient(List.of(address(hub)), old, clock)) {
      RuntimeException refused = assertThrows(RuntimeException.class, () -> client.announce(ClusterRecord.getDefaultInstance()));

      Optional<String> problem = HubErrors.hubIdentityChanged(refused);
      assertTrue(problem.isPresent(), String.valueOf(refused));
      assertTrue(problem.get().startsWith("the hub's certificate is not of this agent's mesh (UNKNOWN_CA): if the hub"
          + " lost its data, re-enroll with 'meshwire agent rejoin'; "), problem.get());
    }
  }

  @Test
  void rejoinEnrollsWithTheNewHubAndReplacesTheCredentialSet() throws Exception {
    TlsCredentials old = enrolledWithTheLostHub();
    try (HubFixture hub = new HubFixture(newHubDir)) {
      Path tokenFile = work.resolve("east.token");
      Files.writeString(tokenFile, token(hub, newHubDir, "east") + "\n");

      CliRun run = CliRun.of(clock, "agent", "rejoin", "--state-dir", stateDir.toString(), "--join-token-file",
          tokenFile.toString(), "--hub-ca", newHubDir.resolve("ca/ca.crt").toString(), "--hub", address(hub).toString());

      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(run.out().startsWith("re-enrolled cluster east in mesh test.mesh"), run.out());
      TlsCredentials now = TlsCredentials.load(stateDir, "cluster");
      assertEquals(hub.ca().certificate(), now.trustAnchors().get(0), "ca.crt is the new hub's CA");
      assertEquals(now.leaf().getPublicKey(), publicKeyOf(now), "key and certificate belong together");
      assertTrue(Files.exists(stateDir.resolve(Rejoin.MARKER)), "the agent adopts the new mesh at its next start");
      Path previous = Path.of(run.out().lines().filter(l -> l.contains("previous set is in"))
          .findFirst().orElseThrow().replaceFirst(".*previous set is in ", ""));
      assertEquals(old.leaf(), TlsCredentials.load(previous, "cluster").leaf());
      // The new credentials are accepted by the new hub: the connection authenticates both ways.
      try (HubClient client = new HubClient(List.of(address(hub)), now, clock)) {
        assertEquals(Optional.empty(), HubErrors.hubIdentityChanged(
            assertThrows(RuntimeException.class, () -> client.announce(ClusterRecord.getDefaultInstance()))));
      }
    }
  }

  @Test
  void rejoinWithABadTokenFailsAndLeavesTheCredentialsAlone() throws Exception {
    TlsCredentials old = enrolledWithTheLostHub();
    try (HubFixture hub = new HubFixture(newHubDir)) {
      Path tokenFile = work.resolve("bad.token");
      Files.writeString(tokenFile, "mwjt_not-a-token\n");

      CliRun run = CliRun.of(clock, "agent", "rejoin", "--state-dir", stateDir.toString(), "--join-token-file",
          tokenFile.toString(), "--hub-ca", newHubDir.resolve("ca/ca.crt").toString(), "--hub", address(hub).toString());

      assertEquals(1, run.exitCode(), run.toString());
      assertEquals(old.leaf(), TlsCredentials.load(stateDir, "cluster").leaf());
      assertTrue(Files.notExists(stateDir.resolve(Rejoin.MARKER)));
    }
  }

  /** The public key of the private key, by signing and verifying (EC keys carry no public part). */
  private static java.security.PublicKey publicKeyOf(TlsCredentials creds) throws Exception {
    java.security.Signature sign = java.security.Signature.getInstance("SHA256withECDSA");
    sign.initSign(creds.privateKey());
    sign.update(new byte[] {1, 2, 3});
    byte[] signature = sign.sign();
    java.security.Signature verify = java.security.Signature.getInstance("SHA256withECDSA");
    verify.initVerify(creds.leaf().getPublicKey());
    verify.update(new byte[] {1, 2, 3});
    assertTrue(verify.verify(signature), "the private key signs what the certificate's key verifies");
    return creds.leaf().getPublicKey();
  }
}
