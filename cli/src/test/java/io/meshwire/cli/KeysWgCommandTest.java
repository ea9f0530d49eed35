package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.Processes;
import io.meshwire.certs.WireGuardKeyPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysWgCommandTest {

  @TempDir Path tmp;

  @Test
  void printsPrivateThenPublicKeyThatWgPubkeyAgreesWith() throws Exception {
    CliRun run = CliRun.of("keys", "wg");
    assertEquals(0, run.exitCode(), run.toString());
    String[] lines = run.out().split("\n");
    assertEquals(2, lines.length, run.out());
    assertTrue(lines[0].matches("[A-Za-z0-9+/]{43}="), lines[0]);
    assertEquals(lines[1], WireGuardKeyPair.fromPrivateBase64(lines[0]).publicKeyBase64());

    Processes.assumeInstalled("wg");
    Processes.Result wg = Processes.run(lines[0] + "\n", "wg", "pubkey");
    assertEquals(0, wg.exitCode(), wg.stderr());
    assertEquals(lines[1] + "\n", wg.stdout());
  }

  @Test
  void privateOutWritesAnOwnerOnlyFileAndPrintsOnlyThePublicKey() throws Exception {
    Path file = tmp.resolve("wg/private.key");
    CliRun run = CliRun.of("keys", "wg", "--private-out", file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    String priv = Files.readString(file).strip();
    assertEquals(WireGuardKeyPair.fromPrivateBase64(priv).publicKeyBase64() + "\n", run.out());

    Processes.assumeInstalled("wg");
    Processes.Result wg = Processes.run(Files.readString(file), "wg", "pubkey");
    assertEquals(run.out(), wg.stdout());
  }

  @Test
  void privateOutRefusesToOverwriteAnExistingFile() throws Exception {
    Path file = tmp.resolve("private.key");
    Files.writeString(file, "precious\n");
    CliRun run = CliRun.of("keys", "wg", "--private-out", file.toString());
    assertEquals(1, run.exitCode(), run.toString());
    assertEquals("meshwire: " + file + ": already exists; refusing to overwrite a private key\n", run.err());
    assertEquals("", run.out());
    assertEquals("precious\n", Files.readString(file));
  }
}
