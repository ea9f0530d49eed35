package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.cli.hub.HubCommand;
import io.meshwire.hub.server.HubConfig;
import io.meshwire.netaddr.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** How {@code meshwire hub} builds the hub's config; the hub itself is not started here. */
class HubCommandTest {

  @TempDir Path dir;

  /** The config {@code meshwire hub args...} would run with. */
  private static HubConfig configOf(String... args) {
    CommandLine root = Main.commandLine(InstantSource.system());
    CommandLine.ParseResult parsed = root.parseArgs(args);
    HubCommand hub = parsed.subcommand().commandSpec().commandLine().getCommand();
    return hub.config();
  }

  @Test
  void namedOptionsWinOverSetWhichWinsOverTheConfigFile() throws Exception {
    Path yaml = dir.resolve("hub.yaml");
    Files.writeString(yaml, """
        data-dir: /var/lib/meshwire-hub
        listen: 0.0.0.0:7443
        mesh: prod.example
        cert-validity: 30d
        bookmark-interval: 10s
        """);
    HubConfig config = configOf("hub", "--config", yaml.toString(), "--set", "listen=127.0.0.1:9000",
        "--set", "cert-validity=60d", "--listen", "127.0.0.1:7000", "--metrics-listen", "127.0.0.1:9090");
    assertEquals(Path.of("/var/lib/meshwire-hub"), config.dataDir());
    assertEquals(HostPort.parse("127.0.0.1:7000"), config.listen());
    assertEquals("prod.example", config.mesh());
    assertEquals(Duration.ofDays(60), config.certValidity());
    assertEquals(Duration.ofSeconds(10), config.bookmarkInterval());
    assertEquals(Optional.of(HostPort.parse("127.0.0.1:9090")), config.metricsListen());
  }

  @Test
  void flagsAloneNeedOnlyTheDataDirectory() {
    HubConfig config = configOf("hub", "--data-dir", dir.toString(), "--mesh", "test.mesh", "--hub-name", "hub-1");
    assertEquals(dir, config.dataDir());
    assertEquals("test.mesh", config.mesh());
    assertEquals("hub-1", config.hubName());
    assertEquals(HostPort.parse("127.0.0.1:7443"), config.listen());
    assertEquals(io.meshwire.netaddr.AddressPolicy.DEFAULT, config.maxCidrPrefix());
  }

  @Test
  void widestCidrIsASetting() {
    HubConfig config = configOf("hub", "--data-dir", dir.toString(), "--max-cidr-prefix", "/12,/48");
    assertEquals(new io.meshwire.netaddr.AddressPolicy(12, 48), config.maxCidrPrefix());
    CliRun run = CliRun.of("hub", "--data-dir", dir.toString(), "--max-cidr-prefix", "/1");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("hub config: max-cidr-prefix: widest IPv4 prefix /1 out of range"), run.err());
  }

  @Test
  void storeEtcdTakesItsEndpointsAndTlsFilesFromFlags() throws Exception {
    for (String f : new String[] {"ca.crt", "client.crt", "client.key"}) {
      Files.writeString(dir.resolve(f), "pem");
    }
    HubConfig config = configOf("hub", "--data-dir", dir.toString(), "--store", "etcd",
        "--etcd-endpoints", "https://10.0.0.1:2379,https://10.0.0.2:2379", "--etcd-ca", dir.resolve("ca.crt").toString(),
        "--etcd-cert", dir.resolve("client.crt").toString(), "--etcd-key", dir.resolve("client.key").toString(),
        "--etcd-prefix", "/mesh-a/");
    assertEquals(HubConfig.Store.ETCD, config.store());
    var etcd = config.etcd().orElseThrow();
    assertEquals(2, etcd.endpoints().size());
    assertEquals("/mesh-a/", etcd.prefix());
    assertEquals(HubConfig.Store.FILE, configOf("hub", "--data-dir", dir.toString()).store());
  }

  @Test
  void storeEtcdWithoutTlsOrWithPlainHttpIsAUsageErrorNamingTheSetting() {
    CliRun noCa = CliRun.of("hub", "--data-dir", dir.toString(), "--store", "etcd",
        "--etcd-endpoints", "https://10.0.0.1:2379");
    assertEquals(2, noCa.exitCode(), noCa.toString());
    assertTrue(noCa.err().contains("etcd-ca: is required with store etcd"), noCa.err());
    CliRun plain = CliRun.of("hub", "--data-dir", dir.toString(), "--store", "etcd",
        "--etcd-endpoints", "http://10.0.0.1:2379");
    assertEquals(2, plain.exitCode(), plain.toString());
    assertTrue(plain.err().contains("etcd-endpoints: \"http://10.0.0.1:2379\" is not https://host:port"), plain.err());
    CliRun stray = CliRun.of("hub", "--data-dir", dir.toString(), "--etcd-endpoints", "https://10.0.0.1:2379");
    assertEquals(2, stray.exitCode(), stray.toString());
    assertTrue(stray.err().contains("etcd-endpoints: only used with store etcd"), stray.err());
  }

  @Test
  void unknownSettingIsAUsageErrorNamingIt() {
    CliRun run = CliRun.of("hub", "--data-dir", dir.toString(), "--set", "bogus=1");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("hub config: bogus: unknown setting (known: "), run.err());
  }

  @Test
  void invalidValueIsAUsageErrorNamingTheSetting() {
    CliRun run = CliRun.of("hub", "--data-dir", dir.toString(), "--listen", "nowhere");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("hub config: listen: \"nowhere\": expected host:port"), run.err());
  }

  @Test
  void missingDataDirectoryIsAUsageError() {
    CliRun run = CliRun.of("hub");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("hub config: data-dir: is required"), run.err());
  }

  @Test
  void unreadableConfigFileIsAUsageErrorNamingTheFile() {
    CliRun run = CliRun.of("hub", "--config", dir.resolve("nope.yaml").toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("hub config " + dir.resolve("nope.yaml") + ": cannot read"), run.err());
  }

  @Test
  void portInUseSaysSoAndNamesTheOption() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String listen = "127.0.0.1:" + taken.getLocalPort();
      CliRun run = CliRun.of("hub", "--data-dir", dir.toString(), "--listen", listen);
      assertEquals(1, run.exitCode(), run.toString());
      assertTrue(run.err().startsWith("meshwire: " + listen + ": address already in use: another hub or program"
          + " listens there; stop it, or choose another --listen"), run.err());
    }
  }

  @Test
  void metricsPortInUseNamesMetricsListenNotTheHubsPort() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String metrics = "127.0.0.1:" + taken.getLocalPort();
      CliRun run = CliRun.of("hub", "--data-dir", dir.toString(), "--listen", "127.0.0.1:0", "--metrics-listen", metrics);
      assertEquals(1, run.exitCode(), run.toString());
      assertTrue(run.err().startsWith("meshwire: metrics-listen " + metrics + ": "), run.err());
    }
  }

  @Test
  void dataDirectoryOfARunningHubIsRefusedSayingWhy() throws Exception {
    try (io.meshwire.hub.HubFixture running = new io.meshwire.hub.HubFixture(dir)) {
      CliRun run = CliRun.of("hub", "--data-dir", dir.toString(), "--listen", "127.0.0.1:0");
      assertEquals(1, run.exitCode(), run.toString());
      assertTrue(run.err().contains("is another hub running with --data-dir " + dir + "? Stop it first"), run.err());
    }
  }

  @Test
  void helpListsTheSettingsSetAccepts() {
    CliRun run = CliRun.of("hub", "--help");
    assertEquals(0, run.exitCode(), run.toString());
    for (String option : new String[] {"--config", "--data-dir", "--listen", "--mesh", "--hub-name", "--metrics-listen", "--set"}) {
      assertTrue(run.out().contains(option), option + "\n" + run.out());
    }
    assertTrue(run.out().contains("cert-validity"), run.out());
  }
}
