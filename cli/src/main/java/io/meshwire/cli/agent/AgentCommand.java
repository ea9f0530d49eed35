package io.meshwire.cli.agent;

import io.meshwire.agent.AgentMain;
import io.meshwire.agent.config.AgentConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code AgentCommand} is {@code meshwire agent}: runs one cluster's mesh agent until stopped. Every
 * option maps to the {@link AgentConfig} setting of the same name, where it is validated.
 */
@Command(name = "agent", subcommands = AgentRejoinCommand.class, description = {
    "Run one cluster's mesh agent: WireGuard tunnels and routes to every peer. Needs root.",
    "It applies the last-known state, enrolls on first start, announces this cluster and follows the",
    "hub; tunnels keep working while the hub is down."})
public final class AgentCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--cluster-id", description = "This cluster's ID (a DNS label). Required.")
  String clusterId;
  @Option(names = "--state-dir", description = "Directory for the state file, key and certificate. Required.")
  Path stateDir;
  @Option(names = "--hub", split = ",", description = "Hub address(es), host:port, comma-separated. Required.")
  java.util.List<String> hubs;
  @Option(names = "--hub-ca", description = "CA certificate to verify the hub at first enrollment.")
  Path hubCa;
  @Option(names = "--join-token-file", description = "File holding the join token (first start only).")
  Path joinTokenFile;
  @Option(names = "--interface", defaultValue = "mw0", description = "WireGuard interface name (default: ${DEFAULT-VALUE}).")
  String iface;
  @Option(names = "--listen-port", defaultValue = "51820", description = "WireGuard UDP port (default: ${DEFAULT-VALUE}).")
  String listenPort;
  @Option(names = "--interface-address", description = "Address of the tunnel interface, a /32 or /128.")
  String interfaceAddress;
  @Option(names = "--endpoint", split = ",",
      description = "Gateway endpoint(s) peers dial, host:port. Required unless --endpoint-from-file.")
  java.util.List<String> endpoints;
  @Option(names = "--endpoint-from-file", paramLabel = "FILE",
      description = "Read the gateway endpoint(s) from FILE (host:port per line), re-read every 2 s and announced on"
          + " change: behind NAT, a file your platform keeps true. --endpoint is the fallback while it is unusable.")
  Path endpointFile;
  @Option(names = "--pod-cidrs", split = ",", description = "This cluster's pod CIDRs. Required.")
  java.util.List<String> podCidrs;
  @Option(names = "--service-cidrs", split = ",", description = "This cluster's service CIDRs.")
  java.util.List<String> serviceCidrs;
  @Option(names = "--peer-channel", description = "host:port of the peer channel, reachable through the tunnel.")
  String peerChannel;
  @Option(names = "--wireguard", defaultValue = "auto", description = "auto, kernel or userspace (default: ${DEFAULT-VALUE}).")
  String wireguard;
  @Option(names = "--reconcile-interval", defaultValue = "10s", description = "Drift repair period (default: ${DEFAULT-VALUE}).")
  String reconcileInterval;
  @Option(names = "--status-interval", defaultValue = "5s", description = "Link status period (default: ${DEFAULT-VALUE}).")
  String statusInterval;
  @Option(names = "--metrics-listen", defaultValue = AgentArgs.DEFAULT_METRICS_LISTEN,
      description = "HTTP for /metrics, /status, /ready; 'off' to disable (default: ${DEFAULT-VALUE}).")
  String metricsListen;
  @Option(names = "--accept-hub-state",
      description = "Apply the hub's state even if its mesh UID changed or it would remove most peers.")
  boolean acceptHubState;
  @Option(names = "--remap-pools", split = ",",
      description = "Ranges to remap overlapping peer pod CIDRs into (default: 100.64.0.0/10,fd6d:7769:7265::/48).")
  java.util.List<String> remapPools;
  @Option(names = "--reserved-cidrs", split = ",",
      description = "Ranges no peer may be seen as (node, tunnel networks).")
  java.util.List<String> reservedCidrs;
  @Option(names = "--kubeconfig",
      description = "Kubeconfig of this cluster's API server, or 'in-cluster' inside a pod: turns on Multi-Cluster Services reflection.")
  Path kubeconfig;
  @Option(names = "--peer-listen",
      description = "host:port the peer channel's server listens on (default: the --peer-channel address).")
  String peerListen;
  @Option(names = "--persistent-keepalive", defaultValue = "25s",
      description = "WireGuard keepalive to every peer, whole seconds (default: ${DEFAULT-VALUE}).")
  String persistentKeepalive;
  @Option(names = "--link-down-after", defaultValue = "75s",
      description = "A peer silent this long counts as down; more than twice the keepalive (default: ${DEFAULT-VALUE}).")
  String linkDownAfter;
  @Option(names = "--probe-port",
      description = "UDP port answering peers' direct-path probes, announced to them (default: --listen-port + 1).")
  String probePort;
  @Option(names = "--path-first-contact",
      description = "A new peer without a WireGuard handshake this long is relayed (default: 6s).")
  String pathFirstContact;
  @Option(names = "--path-misses",
      description = "Unanswered direct probes in a row that move a direct link to the relay (default: 3).")
  String pathMisses;
  @Option(names = "--path-upgrade-after",
      description = "Direct probes answered this long, unbroken, move a relayed link back to direct (default: 10s).")
  String pathUpgradeAfter;
  @Option(names = "--path-probe-backoff",
      description = "Wait before the first direct probe of a relayed link, doubled after each miss (default: 5s).")
  String pathProbeBackoff;
  @Option(names = "--path-probe-backoff-max",
      description = "Ceiling of that wait, at most 10m (default: 4m).")
  String pathProbeBackoffMax;
  @Option(names = "--relay-idle-close",
      description = "Close a connection to a peer's home relay idle this long; the own home relay stays (default: 5m).")
  String relayIdleClose;
  @Option(names = "--rejoin-carry",
      description = "After a rejoin, keep peers the new hub does not list yet this long, 1s..7d (default: 15m).")
  String rejoinCarry;

  @Override
  public Integer call() throws Exception {
    AgentConfig config;
    try {
      config = AgentConfig.parse(settings());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    AgentMain.run(config);
    return 0;
  }

  /** The parsed options as {@link AgentConfig} settings by key ({@link AgentArgs} reads the same without picocli). */
  Map<String, String> settings() {
    Map<String, String> settings = new LinkedHashMap<>();
    // Required settings are checked by AgentConfig, which names the missing one; not by picocli,
    // which would also demand them of `meshwire agent rejoin`.
    if (clusterId != null) {
      settings.put("cluster-id", clusterId);
    }
    if (stateDir != null) {
      settings.put("state-dir", stateDir.toString());
    }
    if (hubs != null) {
      settings.put("hub", String.join(",", hubs));
    }
    if (hubCa != null) {
      settings.put("hub-ca", hubCa.toString());
    }
    if (joinTokenFile != null) {
      settings.put("join-token-file", joinTokenFile.toString());
    }
    settings.put("interface", iface);
    settings.put("listen-port", listenPort);
    if (interfaceAddress != null) {
      settings.put("interface-address", interfaceAddress);
    }
    if (endpoints != null) {
      settings.put("endpoint", String.join(",", endpoints));
    }
    if (endpointFile != null) {
      settings.put("endpoint-from-file", endpointFile.toString());
    }
    if (podCidrs != null) {
      settings.put("pod-cidrs", String.join(",", podCidrs));
    }
    if (serviceCidrs != null) {
      settings.put("service-cidrs", String.join(",", serviceCidrs));
    }
    if (peerChannel != null) {
      settings.put("peer-channel", peerChannel);
    }
    settings.put("wireguard", wireguard);
    settings.put("reconcile-interval", reconcileInterval);
    settings.put("status-interval", statusInterval);
    settings.put("metrics-listen", metricsListen);
    settings.put("accept-hub-state", String.valueOf(acceptHubState));
    settings.put("persistent-keepalive", persistentKeepalive);
    settings.put("link-down-after", linkDownAfter);
    if (remapPools != null) {
      settings.put("remap-pools", String.join(",", remapPools));
    }
    if (reservedCidrs != null) {
      settings.put("reserved-cidrs", String.join(",", reservedCidrs));
    }
    if (kubeconfig != null) {
      settings.put("kubeconfig", kubeconfig.toString());
    }
    if (peerListen != null) {
      settings.put("peer-listen", peerListen);
    }
    Map<String, String> optional = new LinkedHashMap<>();
    optional.put("probe-port", probePort);
    optional.put("path-first-contact", pathFirstContact);
    optional.put("path-misses", pathMisses);
    optional.put("path-upgrade-after", pathUpgradeAfter);
    optional.put("path-probe-backoff", pathProbeBackoff);
    optional.put("path-probe-backoff-max", pathProbeBackoffMax);
    optional.put("relay-idle-close", relayIdleClose);
    optional.put("rejoin-carry", rejoinCarry);
    optional.forEach((key, value) -> {
      if (value != null) {
        settings.put(key, value);
      }
    });
    return settings;
  }
}
