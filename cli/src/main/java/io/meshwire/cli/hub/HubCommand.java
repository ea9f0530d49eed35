package io.meshwire.cli.hub;

import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubMain;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code HubCommand} is {@code meshwire hub}: runs the hub in this process until SIGTERM or
 * Ctrl-C. Settings are layered: defaults, then {@code --config}, then {@code --set}, then the named
 * flags; a bad setting is a usage error (exit code 2) whose message names it.
 */
@Command(
    name = "hub",
    subcommands = HubRepairCommand.class,
    description = {
      "Run the hub (rendezvous server) until SIGTERM or Ctrl-C.",
      "Prints READY <port> once listening. On first start with an empty data directory it creates "
          + "the mesh CA (<data-dir>/ca) and an admin credential for the admin commands "
          + "(<data-dir>/admin: admin.crt, admin.key, ca.crt).",
      "Settings: the defaults, overridden by --config, then by --set, then by the named options."
    })
public final class HubCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML file mapping setting names to values.")
  private Path config;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the hub keeps its CA, log and tokens (required).")
  private String dataDir;

  @Option(names = "--listen", paramLabel = "HOST:PORT", description = "gRPC address (default: 127.0.0.1:7443; port 0: any).")
  private String listen;

  @Option(names = "--mesh", paramLabel = "NAME", description = "Trust domain of a new mesh CA (default: meshwire).")
  private String mesh;

  @Option(names = "--hub-name", paramLabel = "NAME", description = "This hub's name in its certificate (default: hub-0).")
  private String hubName;

  @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
      description = "Prometheus /metrics address, or off (default: off).")
  private String metricsListen;

  @Option(names = "--max-cidr-prefix", paramLabel = "/V4,/V6",
      description = "Widest pod or service CIDR a cluster may announce (default: /8,/32).")
  private String maxCidrPrefix;
  @Option(names = "--store", paramLabel = "file|etcd",
      description = "Where the hub keeps its state: file (default, one hub) or etcd (several replicas).")
  private String store;

  @Option(names = "--etcd-endpoints", paramLabel = "URLS",
      description = "With --store etcd: https://host:port of the etcd members, comma-separated.")
  private String etcdEndpoints;

  @Option(names = "--etcd-ca", paramLabel = "FILE", description = "With --store etcd: CA that signed etcd's certificates.")
  private String etcdCa;

  @Option(names = "--etcd-cert", paramLabel = "FILE", description = "With --store etcd: client certificate for etcd.")
  private String etcdCert;

  @Option(names = "--etcd-key", paramLabel = "FILE", description = "With --store etcd: client key for etcd.")
  private String etcdKey;

  @Option(names = "--etcd-prefix", paramLabel = "PREFIX", description = "With --store etcd: key prefix (default: /meshwire/).")
  private String etcdPrefix;

  @Option(names = "--relay-listen", paramLabel = "HOST:PORT",
      description = "Run a relay in the hub process on this address, or off (default: off).")
  private String relayListen;

  @Option(names = "--relays", paramLabel = "HOST:PORT[,...]",
      description = "Relay addresses agents are told to use (default: the relay-listen address when it is not a wildcard).")
  private String relays;

  @Option(names = "--default-peering", paramLabel = "allow|deny",
      description = "Peering of a cluster no allow policy selects: allow (full mesh, default) or deny.")
  private String defaultPeering;

  @Option(names = "--set", paramLabel = "KEY=VALUE", completionCandidates = SettingKeys.class,
      description = "Any setting by name, repeatable, e.g. --set cert-validity=30d. Names: ${COMPLETION-CANDIDATES}.")
  private Map<String, String> settings = new LinkedHashMap<>();

  @Override
  public Integer call() throws Exception {
    HubConfig config = config();
    try {
      HubMain.run(config);
    } catch (Exception e) {
      throw explained(e, config);
    }
    return 0;
  }

  /** {@code e} with what to do added, for the two start failures an operator causes most. */
  static Exception explained(Exception e, HubConfig config) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof io.meshwire.hub.store.StoreException store && store.file() != null
          && store.file().getFileName().toString().equals("lock")) {
        return new IllegalStateException(store.getMessage() + ": is another hub running with --data-dir "
            + config.dataDir() + "? Stop it first: two hubs must never share a data directory", e);
      }
      if (t instanceof java.net.BindException) {
        return new IllegalStateException(config.listen() + ": address already in use: another hub or program"
            + " listens there; stop it, or choose another --listen (port 0 picks a free one)", e);
      }
    }
    return e;
  }

  /**
   * The configuration the options describe.
   *
   * @throws ParameterException (exit code 2) naming the setting that is unknown or invalid
   */
  public HubConfig config() {
    Map<String, String> overrides = new LinkedHashMap<>(settings);
    putIfGiven(overrides, "data-dir", dataDir);
    putIfGiven(overrides, "listen", listen);
    putIfGiven(overrides, "mesh", mesh);
    putIfGiven(overrides, "hub-name", hubName);
    putIfGiven(overrides, "metrics-listen", metricsListen);
    putIfGiven(overrides, "max-cidr-prefix", maxCidrPrefix);
    putIfGiven(overrides, "store", store);
    putIfGiven(overrides, "etcd-endpoints", etcdEndpoints);
    putIfGiven(overrides, "etcd-ca", etcdCa);
    putIfGiven(overrides, "etcd-cert", etcdCert);
    putIfGiven(overrides, "etcd-key", etcdKey);
    putIfGiven(overrides, "etcd-prefix", etcdPrefix);
    putIfGiven(overrides, "relay-listen", relayListen);
    putIfGiven(overrides, "relays", relays);
    putIfGiven(overrides, "default-peering", defaultPeering);
    try {
      return config == null ? HubConfig.parse(overrides) : HubConfig.fromYaml(config, overrides);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  private static void putIfGiven(Map<String, String> settings, String key, String value) {
    if (value != null) {
      settings.put(key, value);
    }
  }

  /** The setting names {@code --set} accepts, sorted, for its help. */
  static final class SettingKeys implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return HubConfig.KEYS.stream().sorted().iterator();
    }
  }
}
