package io.meshwire.cli.relay;

import io.meshwire.certs.CertificateRejectedException;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.HubChannels;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.cli.Commands;
import io.meshwire.netaddr.HostPort;
import io.meshwire.observability.MetricsListener;
import io.meshwire.relay.RelayTls;
import io.meshwire.relay.server.HubRevocations;
import io.meshwire.relay.server.RelayConfig;
import io.meshwire.relay.server.RelayServer;
import io.meshwire.relay.server.RevocationCheck;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.time.InstantSource;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code RelayCommand} is {@code meshwire relay}: a standalone relay until SIGTERM or Ctrl-C. It
 * presents {@code <data-dir>/hub-<name>.crt} (a hub-role certificate of the mesh, as
 * {@code meshwire ca issue --role hub --name <name>} writes it), accepts clusters' certificates, and
 * learns revocations from the hub ({@code --hub}, {@link HubRevocations}) and/or from the file the
 * hub writes (re-read when it changes).
 */
@Command(
    name = "relay",
    description = {
      "Run a relay: forwards WireGuard datagrams between clusters over TLS on TCP, for links whose "
          + "direct UDP path is blocked. Prints READY <port> once listening.",
      "Credentials: <data-dir>/hub-<name>.key, hub-<name>.crt (a hub-role certificate: meshwire ca issue "
          + "--role hub --name <name> --out <data-dir>) and ca.crt.",
      "Revocations: with --hub, polled from the hub every 500 ms with the relay's certificate (a revoked "
          + "cluster's connection is closed within about 1 s); the last list learnt is kept while the hub is down, "
          + "also across restarts (--revocations-cache). And, with or without --hub, the hub's revocations.json "
          + "file if present, re-read when it changes."
    })
public final class RelayCommand implements Callable<Integer> {

  /** How often the relay asks the hub for revocations (plus the relay's 500 ms sweep: cut within about 1 s). */
  static final Duration HUB_POLL = Duration.ofMillis(500);

  @Spec private CommandSpec spec;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:443",
      description = "Where clusters connect (default: ${DEFAULT-VALUE}; port 0: any).")
  private String listen;

  @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "Holds the relay's credentials.")
  private Path dataDir;

  @Option(names = "--name", paramLabel = "NAME", defaultValue = "relay",
      description = "The relay's name in its certificate: files hub-<name>.crt and .key (default: ${DEFAULT-VALUE}).")
  private String name;

  @Option(names = "--revocations", paramLabel = "FILE",
      description = "The hub's revocation list (default: <data-dir>/revocations.json; missing: nothing revoked).")
  private Path revocations;

  @Option(names = "--hub", paramLabel = "HOST:PORT",
      description = "The hub (its Service) to learn revocations from, with the relay's hub-role certificate "
          + "(default: none: only the --revocations file).")
  private String hub;

  @Option(names = "--revocations-cache", paramLabel = "FILE",
      description = "Where the list learnt from the hub is kept for a restart while the hub is down "
          + "(default: <data-dir>/hub-revocations.json; unwritable: kept in memory only).")
  private Path revocationsCache;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
      description = "Event loop threads (1..64, default: ${DEFAULT-VALUE}). A pair of clusters on two threads costs a "
          + "thread hand-off per datagram; one thread has none but uses one core at most.")
  private int threads;

  @Option(names = "--metrics-listen", paramLabel = "HOST:PORT", description = "Prometheus /metrics address (default: off).")
  private String metricsListen;

  @Override
  public Integer call() throws Exception {
    HostPort address;
    try {
      address = HostPort.parseListen(listen);
    } catch (IllegalArgumentException e) {
      throw Commands.badValue(spec, "--listen", e.getMessage());
    }
    HostPort hubAddress = null;
    if (hub != null) {
      try {
        hubAddress = HostPort.parse(hub);
      } catch (IllegalArgumentException e) {
        throw Commands.badValue(spec, "--hub", e.getMessage());
      }
    }
    RelayConfig defaults = RelayConfig.defaults(address);
    RelayConfig config;
    try {
      config = new RelayConfig(address, defaults.maxDatagram(), defaults.socketBuffer(), defaults.highWater(),
          defaults.revocationSweep(), threads);
    } catch (IllegalArgumentException e) {
      throw Commands.badValue(spec, "--threads", e.getMessage());
    }
    String base = "hub-" + name;
    if (!Files.isRegularFile(dataDir.resolve(base + ".crt"))) {
      throw Commands.badValue(spec, "--data-dir", dataDir.resolve(base + ".crt")
          + " not found (issue one: meshwire ca issue --role hub --name " + name + " --out " + dataDir + ")");
    }
    TlsCredentials credentials = TlsCredentials.load(dataDir, base);
    SpiffeId id;
    try {
      id = SpiffeId.of(credentials.leaf());
    } catch (CertificateRejectedException e) {
      throw new IllegalArgumentException(dataDir.resolve(base + ".crt") + ": " + e.getMessage(), e);
    }
    if (id.role() != Role.HUB) {
      throw new IllegalArgumentException(dataDir.resolve(base + ".crt") + ": is " + id
          + ", a relay needs a hub-role certificate (meshwire ca issue --role hub ...)");
    }
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(meters);
    MetricsListener metrics = metricsListen == null || metricsListen.equals("off") ? null
        : MetricsListener.start(HostPort.parseListen(metricsListen), meters);
    Path revocationFile = revocations != null ? revocations : dataDir.resolve("revocations.json");
    HubRevocations fromHub = hubAddress == null ? null : HubRevocations.start(
        HubChannels.open(hubAddress, credentials, InstantSource.system()), hubAddress.toString(),
        revocationsCache != null ? revocationsCache : dataDir.resolve("hub-revocations.json"),
        HUB_POLL, meters);
    RevocationCheck check = fromHub == null ? RevocationCheck.file(revocationFile)
        : RevocationCheck.anyOf(List.of(fromHub, RevocationCheck.file(revocationFile)));
    RelayServer relay = RelayServer.start(config,
        RelayTls.server(new RenewableKeyManager(credentials), InstantSource.system()), check, meters);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      relay.close();
      if (fromHub != null) {
        fromHub.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      stopped.countDown();
    }, "relay-shutdown"));
    System.out.println("READY " + relay.port());
    System.out.flush();
    stopped.await();
    return 0;
  }
}
