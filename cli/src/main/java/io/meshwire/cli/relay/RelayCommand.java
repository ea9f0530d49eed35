package io.meshwire.cli.relay;

import io.meshwire.certs.CertificateRejectedException;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.RenewableKeyManager;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.cli.Commands;
import io.meshwire.netaddr.HostPort;
import io.meshwire.observability.MetricsListener;
import io.meshwire.relay.RelayTls;
import io.meshwire.relay.server.RelayConfig;
import io.meshwire.relay.server.RelayServer;
import io.meshwire.relay.server.RevocationCheck;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * {@code meshwire ca issue --role hub --name <name>} writes it), accepts clusters' certificates, and reads revocations from the file the hub writes (re-read when it changes).
 */
@Command(
    name = "relay",
    description = {
      "Run a relay: forwards WireGuard datagrams between clusters over TLS on TCP, for links whose "
          + "direct UDP path is blocked. Prints READY <port> once listening.",
      "Credentials: <data-dir>/hub-<name>.key, hub-<name>.crt (a hub-role certificate: meshwire ca issue "
          + "--role hub --name <name> --out <data-dir>) and ca.crt.",
      "Revocations: the hub's revocations.json, re-read when it changes; a revoked cluster's "
          + "connection is closed within 1 s of the file changing."
    })
public final class RelayCommand implements Callable<Integer> {

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
    RelayServer relay = RelayServer.start(RelayConfig.defaults(address),
        RelayTls.server(new RenewableKeyManager(credentials), InstantSource.system()),
        RevocationCheck.file(revocationFile), meters);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      relay.close();
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
