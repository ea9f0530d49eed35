package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshwire relay}: what it refuses before it listens. */
class RelayCommandTest {

  @TempDir Path dir;

  @Test
  void aDataDirWithoutTheRelayCredentialIsAUsageErrorSayingHowToIssueOne() {
    CliRun run = CliRun.of("relay", "--listen", "127.0.0.1:0", "--data-dir", dir.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().contains("hub-relay.crt not found (issue one: meshwire ca issue --role hub --name relay"),
        run.toString());
  }

  @Test
  void aClusterCertificateIsRefusedAsARelayCredential() throws Exception {
    Path ca = dir.resolve("ca");
    assertEquals(0, CliRun.of("ca", "init", "--mesh", "demo", "--dir", ca.toString()).exitCode());
    assertEquals(0, CliRun.of("ca", "issue", "--dir", ca.toString(), "--role", "cluster", "--name", "relay",
        "--out", dir.resolve("relay").toString()).exitCode());
    // A cluster credential under the relay's file names.
    java.nio.file.Files.move(dir.resolve("relay/cluster-relay.crt"), dir.resolve("relay/hub-relay.crt"));
    java.nio.file.Files.move(dir.resolve("relay/cluster-relay.key"), dir.resolve("relay/hub-relay.key"));

    CliRun run = CliRun.of("relay", "--listen", "127.0.0.1:0", "--data-dir", dir.resolve("relay").toString());

    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().contains("is spiffe://demo/cluster/relay, a relay needs a hub-role certificate"),
        run.toString());
  }

  @Test
  void aBadHubAddressOrThreadCountIsAUsageErrorNamingTheFlag() {
    CliRun run = CliRun.of("relay", "--listen", "127.0.0.1:0", "--data-dir", dir.toString(), "--hub", "hub");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().contains("--hub"), run.toString());
    run = CliRun.of("relay", "--listen", "127.0.0.1:0", "--data-dir", dir.toString(), "--threads", "0");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().contains("--threads") && run.err().contains("1..64"), run.toString());
  }

  @Test
  void aBadListenAddressIsAUsageError() {
    CliRun run = CliRun.of("relay", "--listen", "nowhere", "--data-dir", dir.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().contains("--listen"), run.toString());
  }
}
