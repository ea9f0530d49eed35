package io.meshwire.cli.hub;

import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubMain;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
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

  /** A setting that has a named option of its own (every setting has {@code --set KEY=VALUE}). */
  private record Flag(String setting, String label, String description) {}

  private static final List<Flag> FLAGS = List.of(
      new Flag("data-dir", "DIR", "Where the hub keeps its CA, log and tokens (required)."),
      new Flag("listen", "HOST:PORT", "gRPC address (default: 127.0.0.1:7443; port 0: any)."),
      new Flag("mesh", "NAME", "Trust domain of a new mesh CA (default: meshwire)."),
      new Flag("hub-name", "NAME", "This hub's name in its certificate (default: hub-0)."),
      new Flag("metrics-listen", "HOST:PORT", "Prometheus /metrics (and /ready) address, or off (default: off)."),
      new Flag("max-cidr-prefix", "/V4,/V6", "Widest pod or service CIDR a cluster may announce (default: /8,/32)."),
      new Flag("store", "file|etcd", "Where the hub keeps its state: file (default, one hub) or etcd (several replicas)."),
      new Flag("etcd-endpoints", "URLS", "With --store etcd: https://host:port of the etcd members, comma-separated."),
      new Flag("etcd-ca", "FILE", "With --store etcd: CA that signed etcd's certificates."),
      new Flag("etcd-cert", "FILE", "With --store etcd: client certificate for etcd."),
      new Flag("etcd-key", "FILE", "With --store etcd: client key for etcd."),
      new Flag("etcd-prefix", "PREFIX", "With --store etcd: key prefix (default: /meshwire/)."),
      new Flag("relay-listen", "HOST:PORT", "Run a relay in the hub process on this address, or off (default: off)."),
      new Flag("relays", "HOST:PORT[,...]",
          "Relay addresses agents are told to use (default: the relay-listen address when it is not a wildcard)."),
      new Flag("default-peering", "allow|deny",
          "Peering of a cluster no allow policy selects: allow (full mesh, default) or deny."));

  private CommandSpec spec;

  /** Adds one option per {@link #FLAGS} entry to the command, before any parsing. */
  @Spec
  void spec(CommandSpec spec) {
    this.spec = spec;
    for (Flag f : FLAGS) {
      if (spec.findOption("--" + f.setting()) == null) {
        spec.addOption(OptionSpec.builder("--" + f.setting()).paramLabel(f.label()).description(f.description())
            .type(String.class).build());
      }
    }
  }

  @Option(names = "--config", paramLabel = "FILE", description = "YAML file mapping setting names to values.")
  private Path config;

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
      // The metrics listener names its own setting and address: only the hub's port is --listen's.
      if (t.getMessage() != null && t.getMessage().startsWith("metrics-listen ")) {
        return new IllegalStateException(t.getMessage() + ": stop what listens there, or choose another"
            + " --metrics-listen", e);
      }
      // The native epoll transport reports EADDRINUSE as its own IOException, not a BindException.
      if (t instanceof java.net.BindException
          || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
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
    for (Flag f : FLAGS) {
      String value = spec.findOption("--" + f.setting()).getValue();
      if (value != null) {
        overrides.put(f.setting(), value);
      }
    }
    try {
      return config == null ? HubConfig.parse(overrides) : HubConfig.fromYaml(config, overrides);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
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
