package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.agent.hub.HubClient;
import io.meshwire.hub.HubFixture;
import io.meshwire.netaddr.HostPort;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code AdminCliTest} is the base of tests that run admin commands against a real hub in this JVM
 * (TLS on 127.0.0.1, mesh test.mesh), one per test; cluster clients in {@link #clusters} are closed
 * after it.
 */
abstract class AdminCliTest {

  protected final InstantSource clock = InstantSource.system();

  @TempDir protected Path data;
  protected HubFixture hub;
  protected HostPort address;
  protected final List<HubClient> clusters = new ArrayList<>();

  @BeforeEach
  void startHub() throws Exception {
    hub = new HubFixture(data);
    address = new HostPort("127.0.0.1", hub.port());
  }

  @AfterEach
  void stopHub() {
    clusters.forEach(HubClient::close);
    if (hub != null) {
      hub.close();
    }
  }

  /** Runs {@code meshwire args... --hub <hub> --credentials <data>/admin}. */
  protected CliRun admin(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--hub", address.toString(), "--credentials", data.resolve("admin").toString()));
    return CliRun.of(clock, all.toArray(String[]::new));
  }

  /** {@link #admin}, which must succeed without writing to stderr. */
  protected CliRun ok(String... args) {
    CliRun run = admin(args);
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals("", run.err(), run.toString());
    return run;
  }
}
