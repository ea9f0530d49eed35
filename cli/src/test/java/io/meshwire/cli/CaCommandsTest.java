package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.certs.Pem;
import io.meshwire.certs.Processes;
import io.meshwire.certs.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaCommandsTest {

  @TempDir Path tmp;

  private static Map<String, String> snapshot(Path dir) throws Exception {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(p).toString(), Files.readString(p) + Files.getLastModifiedTime(p)
            + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
      }
    }
    return files;
  }

  @Test
  void initThenIssueWriteFilesOpensslVerifies() throws Exception {
    Path ca = tmp.resolve("ca");
    var init = CliRun.of("ca", "init", "--mesh", "demo", "--dir", ca.toString());
    assertEquals(0, init.exitCode(), init.toString());
    assertTrue(init.out().startsWith("created CA for mesh demo\n"), init.out());
    var issue = CliRun.of("ca", "issue", "--dir", ca.toString(), "--role", "cluster", "--name", "east");
    assertEquals(0, issue.exitCode(), issue.toString());
    assertTrue(issue.out().startsWith("issued spiffe://demo/cluster/east\n"), issue.out());

    Path crt = ca.resolve("cluster-east.crt");
    assertEquals(SpiffeId.parse("spiffe://demo/cluster/east"), SpiffeId.of(Pem.readCertificate(crt)));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("cluster-east.key"))));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("ca.key"))));

    Processes.assumeInstalled("openssl");
    var verify = Processes.run(null, "openssl", "verify", "-CAfile", ca.resolve("ca.crt").toString(), crt.toString());
    assertEquals(0, verify.exitCode(), verify.stderr());
    assertEquals(crt + ": OK\n", verify.stdout());
  }

  @Test
  void issueWritesToOutDirectoryWithTheCaCertificate() throws Exception {
    Path ca = tmp.resolve("ca");
    Path out = tmp.resolve("hub-files");
    assertEquals(0, CliRun.of("ca", "init", "--mesh", "demo", "--dir", ca.toString()).exitCode());
    var issue = CliRun.of("ca", "issue", "--dir", ca.toString(), "--role", "HUB", "--name", "hub1",
        "--validity", "30d", "--out", out.toString());
    assertEquals(0, issue.exitCode(), issue.toString());
    assertEquals(Files.readString(ca.resolve("ca.crt")), Files.readString(out.resolve("ca.crt")));
    var cert = Pem.readCertificate(out.resolve("hub-hub1.crt"));
    assertEquals(SpiffeId.parse("spiffe://demo/hub/hub1"), SpiffeId.of(cert));
    long days = java.time.Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()).toDays();
    assertEquals(30, days); // 30d plus the 5 minute backdate
  }

  @Test
  void initTwiceFailsAndLeavesTheExistingCaUntouched() throws Exception {
    Path ca = tmp.resolve("ca");
    assertEquals(0, CliRun.of("ca", "init", "--mesh", "demo", "--dir", ca.toString()).exitCode());
    Map<String, String> before = snapshot(ca);
    var again = CliRun.of("ca", "init", "--mesh", "other", "--dir", ca.toString());
    assertEquals(1, again.exitCode(), again.toString());
    assertEquals("meshwire: " + ca.resolve("ca.crt") + ": already exists; refusing to overwrite an existing CA\n", again.err());
    assertEquals("", again.out());
    assertEquals(before, snapshot(ca));
  }

  @Test
  void issueRefusesToOverwriteAnExistingKey() throws Exception {
    Path ca = tmp.resolve("ca");
    CliRun.of("ca", "init", "--mesh", "demo", "--dir", ca.toString());
    String[] issue = {"ca", "issue", "--dir", ca.toString(), "--role", "admin", "--name", "alice"};
    assertEquals(0, CliRun.of(issue).exitCode());
    Map<String, String> before = snapshot(ca);
    var again = CliRun.of(issue);
    assertEquals(1, again.exitCode(), again.toString());
    assertTrue(again.err().startsWith("meshwire: " + ca.resolve("admin-alice.key") + ": already exists"), again.err());
    assertEquals(before, snapshot(ca));
  }

  @Test
  void invalidNameRoleOrValidityIsAUsageErrorNamingTheOption() throws Exception {
    Path ca = tmp.resolve("ca");
    CliRun.of("ca", "init", "--mesh", "demo", "--dir", ca.toString());
    Map<String, String> before = snapshot(ca);
    var badName = CliRun.of("ca", "issue", "--dir", ca.toString(), "--role", "cluster", "--name", "East_1");
    assertEquals(2, badName.exitCode(), badName.toString());
    assertTrue(badName.err().startsWith("Invalid value for option '--name': name \"East_1\""), badName.err());
    var badRole = CliRun.of("ca", "issue", "--dir", ca.toString(), "--role", "pod", "--name", "east");
    assertEquals(2, badRole.exitCode(), badRole.toString());
    var tooLong = CliRun.of("ca", "issue", "--dir", ca.toString(), "--role", "cluster", "--name", "east", "--validity", "399d");
    assertEquals(2, tooLong.exitCode(), tooLong.toString());
    assertTrue(tooLong.err().startsWith("Invalid value for option '--validity': 399d exceeds the maximum of 398d"), tooLong.err());
    var badDuration = CliRun.of("ca", "init", "--mesh", "demo", "--dir", tmp.resolve("x").toString(), "--validity", "ten");
    assertEquals(2, badDuration.exitCode(), badDuration.toString());
    var badMesh = CliRun.of("ca", "init", "--mesh", "Demo Mesh", "--dir", tmp.resolve("x").toString());
    assertEquals(2, badMesh.exitCode(), badMesh.toString());
    assertEquals(before, snapshot(ca));
    assertTrue(Files.notExists(tmp.resolve("x")));
  }

  @Test
  void showDescribesTheCaWithOpensslsFingerprint() throws Exception {
    Path ca = tmp.resolve("ca");
    CliRun.of("ca", "init", "--mesh", "demo.example", "--dir", ca.toString());
    Files.delete(ca.resolve("ca.key")); // show needs only the certificate
    var show = CliRun.of("ca", "show", "--dir", ca.toString());
    assertEquals(0, show.exitCode(), show.toString());
    assertTrue(show.out().startsWith("mesh:         demo.example\n"), show.out());
    assertTrue(show.out().contains("subject:      CN=meshwire CA demo.example\n"), show.out());

    Processes.assumeInstalled("openssl");
    var fp = Processes.run(null, "openssl", "x509", "-in", ca.resolve("ca.crt").toString(), "-noout", "-fingerprint", "-sha256");
    String hex = fp.stdout().strip().replaceFirst("^(?i)sha256 Fingerprint=", "");
    assertTrue(show.out().contains("fingerprint:  SHA256 " + hex + "\n"), show.out() + "\nopenssl: " + fp.stdout());
  }

  @Test
  void showNamesAFileThatIsNotPem() throws Exception {
    Files.writeString(tmp.resolve("ca.crt"), "garbage");
    var show = CliRun.of("ca", "show", "--dir", tmp.toString());
    assertEquals(1, show.exitCode());
    assertEquals("meshwire: " + tmp.resolve("ca.crt") + ": no CERTIFICATE block found (is it PEM?)\n", show.err());
  }
}
