package io.meshwire.agent.config;

import io.meshwire.agent.path.PathPolicy;
import io.meshwire.agent.sync.CarriedPeers;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.Durations;
import io.meshwire.netaddr.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code AgentConfig} is every setting of the mesh agent, checked at start with a message naming
 * the setting. Built from kebab-case settings (flags or YAML); lists are comma-separated. Immutable.
 *
 * @param remapPools where blocks for peers whose pod CIDRs overlap something here are taken from
 *     ({@code remap-pools}, default CGNAT 100.64.0.0/10 then the IPv6 ULA fd6d:7769:7265::/48, ranges clusters rarely use; empty turns remapping off, so overlapping
 *     peers are left out); pairwise disjoint
 * @param reservedCidrs ranges no peer may be seen as, e.g. node and tunnel networks
 *     ({@code reserved-cidrs})
 * @param kubeconfig the cluster's API server ({@code kubeconfig}); when given, the agent runs
 *     Multi-Cluster Services reflection, otherwise none
 * @param peerListen where the peer channel's server listens ({@code peer-listen}, default the
 *     announced {@code peer-channel}); present whenever {@code kubeconfig} is
 * @param persistentKeepalive how often WireGuard sends a keepalive to an idle peer
 *     ({@code persistent-keepalive}, whole seconds 1..65535, default 25 s): keeps NAT mappings open
 *     and gives the link monitor traffic to judge by
 * @param linkDownAfter a link whose peer sent nothing for this long is down ({@code link-down-after},
 *     default 75 s); more than twice the keepalive, so one lost keepalive does not flap the link.
 *     What arrives here are the peers' keepalives, so the check holds only if every cluster of the
 *     mesh uses the same (or a shorter) keepalive
 * @param endpointFile where the gateway endpoints are read from, and re-read every 2 s
 *     ({@code endpoint-from-file}): behind NAT or a load balancer, a file the platform keeps true;
 *     {@code endpoint} is then only the fallback while it has no usable content
 * @param probePort the UDP port that answers peers' direct-path probes, announced to them
 *     ({@code probe-port}, default {@code listen-port} + 1; open it where the WireGuard port is open)
 * @param pathPolicy path selection timings ({@code path-first-contact}, {@code path-misses},
 *     {@code path-upgrade-after}, {@code path-probe-backoff}, {@code path-probe-backoff-max}); the
 *     defaults are {@link PathPolicy#defaults()}
 * @param relayIdleClose a connection to a peer's home relay that carried nothing for this long is
 *     closed ({@code relay-idle-close}, default 5 min); the connection to this cluster's own home
 *     relay always stays
 * @param rejoinCarry after a rejoin into a new mesh, peers the new hub does not list yet keep their
 *     tunnels this long unless they announce there or the hub removes them ({@code rejoin-carry},
 *     default 15 min): the window an operator has to rejoin every cluster
 */
public record AgentConfig(
    String clusterId,
    Path stateDir,
    List<HostPort> hubs,
    Optional<Path> hubCa,
    Optional<String> joinToken,
    String interfaceName,
    int listenPort,
    Optional<Cidr> interfaceAddress,
    List<HostPort> endpoints,
    List<Cidr> podCidrs,
    List<Cidr> serviceCidrs,
    Optional<HostPort> peerChannel,
    String wireguard,
    Duration reconcileInterval,
    Duration statusInterval,
    Optional<HostPort> metricsListen,
    boolean acceptHubState,
    List<Cidr> remapPools,
    List<Cidr> reservedCidrs,
    Optional<Path> kubeconfig,
    Optional<HostPort> peerListen,
    Duration persistentKeepalive,
    Duration linkDownAfter,
    Optional<Path> endpointFile,
    int probePort,
    PathPolicy pathPolicy,
    Duration relayIdleClose,
    Duration rejoinCarry) {

  public static final Set<String> KEYS = Set.of("cluster-id", "state-dir", "hub", "hub-ca", "join-token",
      "join-token-file", "interface", "listen-port", "interface-address", "endpoint", "pod-cidrs", "service-cidrs",
      "peer-channel", "wireguard", "reconcile-interval", "status-interval", "metrics-listen", "accept-hub-state",
      "remap-pools", "reserved-cidrs", "kubeconfig", "peer-listen", "persistent-keepalive", "link-down-after",
      "endpoint-from-file", "probe-port", "path-first-contact", "path-misses", "path-upgrade-after",
      "path-probe-backoff", "path-probe-backoff-max", "relay-idle-close", "rejoin-carry");

  /** A week: long enough for any planned migration; a cluster gone for good must not keep a tunnel forever. */
  static final Duration MAX_REJOIN_CARRY = Duration.ofDays(7);

  static final Map<String, String> DEFAULTS = Map.ofEntries(
      Map.entry("interface", "mw0"),
      Map.entry("listen-port", "51820"),
      Map.entry("wireguard", "auto"),
      Map.entry("reconcile-interval", "10s"),
      Map.entry("status-interval", "5s"),
      Map.entry("metrics-listen", "off"),
      Map.entry("accept-hub-state", "false"),
      Map.entry("persistent-keepalive", "25s"),
      Map.entry("link-down-after", "75s"),
      Map.entry("remap-pools", "100.64.0.0/10,fd6d:7769:7265::/48"),
      Map.entry("path-first-contact", Durations.format(PathPolicy.defaults().firstContact())),
      Map.entry("path-misses", String.valueOf(PathPolicy.defaults().missesToDowngrade())),
      Map.entry("path-upgrade-after", Durations.format(PathPolicy.defaults().upgradeAfter())),
      Map.entry("path-probe-backoff", Durations.format(PathPolicy.defaults().initialBackoff())),
      Map.entry("path-probe-backoff-max", Durations.format(PathPolicy.defaults().maxBackoff())),
      Map.entry("relay-idle-close", "5m"),
      Map.entry("rejoin-carry", Durations.format(CarriedPeers.DEFAULT_GRACE)));

  public AgentConfig {
    if (!clusterId.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
      throw new IllegalArgumentException("agent config: cluster-id: \"" + clusterId + "\" is not a DNS label");
    }
    if (!interfaceName.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException("agent config: interface: \"" + interfaceName
          + "\" must be 1..15 characters of [A-Za-z0-9_.-]");
    }
    if (listenPort < 1 || listenPort > 65535) {
      throw new IllegalArgumentException("agent config: listen-port: " + listenPort + " out of range 1..65535");
    }
    if (!Set.of("auto", "kernel", "userspace").contains(wireguard)) {
      throw new IllegalArgumentException("agent config: wireguard: \"" + wireguard + "\" is not auto, kernel or userspace");
    }
    // Both drive scheduleWithFixedDelay, which refuses a zero period at start with no setting named.
    if (reconcileInterval.isNegative() || reconcileInterval.isZero()) {
      throw new IllegalArgumentException("agent config: reconcile-interval: must be greater than zero");
    }
    if (statusInterval.isNegative() || statusInterval.isZero()) {
      throw new IllegalArgumentException("agent config: status-interval: must be greater than zero");
    }
    if (persistentKeepalive.getNano() != 0 || persistentKeepalive.getSeconds() < 1
        || persistentKeepalive.getSeconds() > 65535) {
      throw new IllegalArgumentException("agent config: persistent-keepalive: " + Durations.format(persistentKeepalive)
          + " is not a whole number of seconds in 1s..65535s");
    }
    if (linkDownAfter.compareTo(persistentKeepalive.multipliedBy(2)) <= 0) {
      throw new IllegalArgumentException("agent config: link-down-after: " + Durations.format(linkDownAfter)
          + " must be more than twice persistent-keepalive (" + Durations.format(persistentKeepalive)
          + "), or every lost keepalive marks the link down");
    }
    if (probePort < 1 || probePort > 65535 || probePort == listenPort) {
      throw new IllegalArgumentException("agent config: probe-port: " + probePort + " must be in 1..65535 and not"
          + " the listen-port (" + listenPort + ")");
    }
    if (relayIdleClose.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("agent config: relay-idle-close: " + Durations.format(relayIdleClose)
          + " must be at least 1s");
    }
    if (rejoinCarry.compareTo(Duration.ofSeconds(1)) < 0 || rejoinCarry.compareTo(MAX_REJOIN_CARRY) > 0) {
      throw new IllegalArgumentException("agent config: rejoin-carry: " + Durations.format(rejoinCarry)
          + " must be in 1s.." + Durations.format(MAX_REJOIN_CARRY));
    }
    if (hubs.isEmpty()) {
      throw new IllegalArgumentException("agent config: hub: at least one hub address is required");
    }
    if (endpoints.isEmpty() && endpointFile.isEmpty()) {
      throw new IllegalArgumentException("agent config: endpoint: at least one gateway endpoint is required"
          + " (or endpoint-from-file)");
    }
    if (podCidrs.isEmpty()) {
      throw new IllegalArgumentException("agent config: pod-cidrs: at least one pod CIDR is required");
    }
    List<Cidr> all = new ArrayList<>(podCidrs);
    all.addAll(serviceCidrs);
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        if (all.get(i).overlaps(all.get(j))) {
          throw new IllegalArgumentException("agent config: pod-cidrs/service-cidrs: " + all.get(i) + " overlaps "
              + all.get(j));
        }
      }
    }
    for (int i = 0; i < remapPools.size(); i++) {
      for (int j = 0; j < i; j++) {
        if (remapPools.get(i).overlaps(remapPools.get(j))) {
          throw new IllegalArgumentException("agent config: remap-pools[" + i + "]: " + remapPools.get(i)
              + " overlaps remap-pools[" + j + "] " + remapPools.get(j));
        }
      }
    }
    if (kubeconfig.isPresent() && peerListen.isEmpty()) {
      peerListen = peerChannel;
      if (peerListen.isEmpty()) {
        throw new IllegalArgumentException("agent config: peer-listen: required with kubeconfig when peer-channel is not set");
      }
    }
    hubs = List.copyOf(hubs);
    endpoints = List.copyOf(endpoints);
    remapPools = List.copyOf(remapPools);
    reservedCidrs = List.copyOf(reservedCidrs);
    podCidrs = List.copyOf(podCidrs);
    serviceCidrs = List.copyOf(serviceCidrs);
  }

  /**
   * Builds a config from settings by key; missing keys take defaults, required ones are named.
   *
   * @throws IllegalArgumentException naming the setting
   */
  public static AgentConfig parse(Map<String, String> settings) {
    for (String key : settings.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("agent config: " + key + ": unknown setting (known: "
            + String.join(", ", KEYS.stream().sorted().toList()) + ")");
      }
    }
    Map<String, String> all = new LinkedHashMap<>(DEFAULTS);
    all.putAll(settings);
    Optional<String> token = Optional.ofNullable(all.get("join-token")).filter(t -> !t.isBlank());
    if (token.isEmpty() && all.containsKey("join-token-file")) {
      token = Optional.of(get(all, "join-token-file", v -> {
        try {
          return java.nio.file.Files.readString(Path.of(v)).trim();
        } catch (java.io.IOException e) {
          throw new IllegalArgumentException("cannot read " + v + ": " + e.getMessage());
        }
      }));
    }
    String metrics = all.get("metrics-listen");
    return new AgentConfig(
        required(all, "cluster-id"),
        Path.of(required(all, "state-dir")),
        list(all, "hub", HostPort::parse, true),
        Optional.ofNullable(all.get("hub-ca")).map(Path::of),
        token,
        all.get("interface"),
        get(all, "listen-port", Integer::parseInt),
        Optional.ofNullable(all.get("interface-address")).map(v -> get(all, "interface-address", Cidr::parse)),
        list(all, "endpoint", HostPort::parse,
            Optional.ofNullable(all.get("endpoint-from-file")).filter(v -> !v.isBlank()).isEmpty()),
        list(all, "pod-cidrs", Cidr::parse, true),
        list(all, "service-cidrs", Cidr::parse, false),
        Optional.ofNullable(all.get("peer-channel")).map(v -> get(all, "peer-channel", HostPort::parse)),
        all.get("wireguard"),
        get(all, "reconcile-interval", Durations::parse),
        get(all, "status-interval", Durations::parse),
        metrics.equals("off") ? Optional.empty() : Optional.of(get(all, "metrics-listen", HostPort::parseListen)),
        get(all, "accept-hub-state", v -> switch (v) {
          case "true" -> true;
          case "false" -> false;
          default -> throw new IllegalArgumentException("\"" + v + "\" is not true or false");
        }),
        list(all, "remap-pools", Cidr::parse, false),
        list(all, "reserved-cidrs", Cidr::parse, false),
        Optional.ofNullable(all.get("kubeconfig")).filter(v -> !v.isBlank()).map(v -> Path.of(v.trim())),
        Optional.ofNullable(all.get("peer-listen")).map(v -> get(all, "peer-listen", HostPort::parseListen)),
        get(all, "persistent-keepalive", Durations::parse),
        get(all, "link-down-after", Durations::parse),
        Optional.ofNullable(all.get("endpoint-from-file")).filter(v -> !v.isBlank()).map(v -> Path.of(v.trim())),
        all.containsKey("probe-port") ? get(all, "probe-port", Integer::parseInt)
            : defaultProbePort(get(all, "listen-port", Integer::parseInt)),
        pathPolicy(all),
        get(all, "relay-idle-close", Durations::parse),
        get(all, "rejoin-carry", Durations::parse));
  }

  /** The probe port when none is set: WireGuard's + 1 (the convention older agents' peers assume). */
  static int defaultProbePort(int listenPort) {
    return listenPort == 65535 ? 65534 : listenPort + 1;
  }

  private static PathPolicy pathPolicy(Map<String, String> all) {
    PathPolicy d = PathPolicy.defaults();
    try {
      return new PathPolicy(get(all, "path-first-contact", Durations::parse), get(all, "path-misses", Integer::parseInt),
          get(all, "path-upgrade-after", Durations::parse), d.probeEvery(), get(all, "path-probe-backoff", Durations::parse),
          get(all, "path-probe-backoff-max", Durations::parse), d.flapWindow(), d.stableAfter());
    } catch (IllegalArgumentException e) {
      throw e.getMessage().startsWith("agent config:") ? e
          : new IllegalArgumentException("agent config: " + e.getMessage(), e);
    }
  }

  private static String required(Map<String, String> all, String key) {
    String v = all.get(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("agent config: " + key + ": is required");
    }
    return v;
  }

  private static <T> T get(Map<String, String> all, String key, Function<String, T> parse) {
    String v = required(all, key);
    try {
      return parse.apply(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("agent config: " + key + ": \"" + v + "\" is not a number", e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("agent config: " + key + ": " + e.getMessage(), e);
    }
  }

  private static <T> List<T> list(Map<String, String> all, String key, Function<String, T> parse, boolean needed) {
    String v = all.get(key);
    if (v == null || v.isBlank()) {
      if (needed) {
        throw new IllegalArgumentException("agent config: " + key + ": is required");
      }
      return List.of();
    }
    List<T> out = new ArrayList<>();
    String[] parts = v.split(",");
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i].trim();
      try {
        out.add(parse.apply(part));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("agent config: " + key + "[" + i + "]: " + e.getMessage(), e);
      }
    }
    return out;
  }
}
