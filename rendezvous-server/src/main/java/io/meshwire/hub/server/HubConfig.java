package io.meshwire.hub.server;

import io.meshwire.hub.auth.RateLimits;
import io.meshwire.hub.etcd.EtcdSettings;
import io.meshwire.hub.policy.PeeringDefault;
import io.meshwire.netaddr.AddressPolicy;
import io.meshwire.netaddr.Durations;
import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * {@code HubConfig} is every setting of the hub, validated at construction with a message that
 * names the setting. Built from defaults, then a YAML file, then flags ({@link #with}), using the
 * same kebab-case keys everywhere. Immutable.
 */
public record HubConfig(
    Path dataDir,
    HostPort listen,
    String mesh,
    String hubName,
    Optional<HostPort> metricsListen,
    Duration certValidity,
    Duration bookmarkInterval,
    int snapshotChunkSize,
    int maxConcurrentSnapshots,
    int maxWaitingSnapshots,
    Duration overloadRetryAfter,
    int retainedEntries,
    int checkpointInterval,
    RateLimits.Limit enrollRate,
    RateLimits.Limit announceRate,
    int maxMessageBytes,
    AddressPolicy maxCidrPrefix,
    Store store,
    Optional<EtcdSettings> etcd,
    Optional<HostPort> relayListen,
    List<HostPort> relays,
    PeeringDefault defaultPeering) {

  /** Where the hub keeps its state: the embedded file store (one hub) or etcd (several replicas). */
  public enum Store { FILE, ETCD }

  /** The keys accepted in YAML and as {@link #with} names. */
  public static final Set<String> KEYS = Set.of("data-dir", "listen", "mesh", "hub-name", "metrics-listen",
      "cert-validity", "bookmark-interval", "snapshot-chunk-size", "max-concurrent-snapshots",
      "max-waiting-snapshots", "overload-retry-after", "retained-entries", "checkpoint-interval", "enroll-rate",
      "announce-rate", "max-message-bytes", "max-cidr-prefix", "store", "etcd-endpoints", "etcd-ca", "etcd-cert", "etcd-key",
      "etcd-prefix", "relay-listen", "relays", "default-peering");

  public HubConfig {
    require(dataDir != null, "data-dir", "is required");
    require(mesh.matches("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?"), "mesh", "\"" + mesh + "\" is not a trust domain name");
    require(hubName.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"), "hub-name", "\"" + hubName + "\" is not a DNS label");
    require(!certValidity.isNegative() && certValidity.compareTo(Duration.ofDays(1)) >= 0
        && certValidity.compareTo(Duration.ofDays(398)) <= 0, "cert-validity", certValidity + " out of range 1d..398d");
    require(bookmarkInterval.compareTo(Duration.ofSeconds(1)) >= 0, "bookmark-interval", "must be >= 1s");
    require(snapshotChunkSize >= 1 && snapshotChunkSize <= 10_000, "snapshot-chunk-size", "out of range 1..10000");
    require(maxConcurrentSnapshots >= 1, "max-concurrent-snapshots", "must be >= 1");
    require(maxWaitingSnapshots >= 0 && maxWaitingSnapshots <= 1_000_000, "max-waiting-snapshots",
        "out of range 0..1000000");
    require(retainedEntries >= 16, "retained-entries", "must be >= 16");
    require(checkpointInterval >= 1 && checkpointInterval <= retainedEntries, "checkpoint-interval",
        "must be 1..retained-entries (" + retainedEntries + ")");
    require(maxMessageBytes >= 64 * 1024, "max-message-bytes", "must be >= 65536");
    require(store != null, "store", "is required");
    require((store == Store.ETCD) == etcd.isPresent(), "store", "etcd settings go with store etcd only");
    relays = List.copyOf(relays);
    require(defaultPeering != null, "default-peering", "is required");
    require(relays.stream().distinct().count() == relays.size(), "relays", "lists an address twice: " + relays);
    require(relays.size() <= 64, "relays", relays.size() + " addresses, at most 64");
    require(relays.stream().noneMatch(r -> r.port() == 0 || isWildcard(r.host())), "relays",
        "addresses agents dial: no port 0, no wildcard host (0.0.0.0, ::): " + relays);
    require(relayListen.isEmpty() || !relays.isEmpty() || !isWildcard(relayListen.get().host()), "relays",
        "required when relay-listen (" + relayListen.map(HostPort::toString).orElse("") + ") is a wildcard address: "
            + "agents need the address to dial");
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
  }

  /**
   * The relays agents are told about: {@code relays} when set, else the embedded relay's listen
   * address (when it is not a wildcard), else none.
   */
  public List<HostPort> advertisedRelays() {
    if (!relays.isEmpty() || relayListen.isEmpty()) {
      return relays;
    }
    return List.of(relayListen.get());
  }

  private static void require(boolean ok, String key, String problem) {
    if (!ok) {
      throw new IllegalArgumentException("hub config: " + key + ": " + problem);
    }
  }

  /** Defaults for every setting but data-dir, in the form operators write them. */
  public static final Map<String, String> DEFAULTS = Map.ofEntries(
      Map.entry("listen", "127.0.0.1:7443"),
      Map.entry("mesh", "meshwire"),
      Map.entry("hub-name", "hub-0"),
      Map.entry("metrics-listen", "off"),
      Map.entry("cert-validity", "90d"),
      Map.entry("bookmark-interval", "30s"),
      Map.entry("snapshot-chunk-size", "500"),
      Map.entry("max-concurrent-snapshots", "64"),
      Map.entry("max-waiting-snapshots", "16384"),
      Map.entry("overload-retry-after", "2s"),
      Map.entry("retained-entries", "100000"),
      Map.entry("checkpoint-interval", "50000"),
      Map.entry("enroll-rate", "10/1s"),
      Map.entry("announce-rate", "20/1s"),
      Map.entry("max-message-bytes", "4194304"),
      Map.entry("max-cidr-prefix", "/8,/32"),
      Map.entry("store", "file"),
      Map.entry("etcd-endpoints", ""),
      Map.entry("etcd-ca", ""),
      Map.entry("etcd-cert", ""),
      Map.entry("etcd-key", ""),
      Map.entry("etcd-prefix", EtcdSettings.DEFAULT_PREFIX),
      Map.entry("relay-listen", "off"),
      Map.entry("relays", ""),
      Map.entry("default-peering", "allow"));

  /** The defaults with {@code dataDir}. */
  public static HubConfig defaults(Path dataDir) {
    return parse(Map.of("data-dir", dataDir.toString()));
  }

  /**
   * Builds a config from settings by kebab-case key; a missing key takes its default.
   *
   * @throws IllegalArgumentException naming the setting, for an unknown key or a bad value
   */
  public static HubConfig parse(Map<String, String> settings) {
    for (String key : settings.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("hub config: " + key + ": unknown setting (known: "
            + String.join(", ", KEYS.stream().sorted().toList()) + ")");
      }
    }
    Map<String, String> all = new LinkedHashMap<>(DEFAULTS);
    all.putAll(settings);
    Settings s = new Settings(all);
    String metrics = s.text("metrics-listen");
    Store store = switch (s.text("store")) {
      case "file" -> Store.FILE;
      case "etcd" -> Store.ETCD;
      default -> throw new IllegalArgumentException("hub config: store: \"" + s.text("store")
          + "\" is not file or etcd");
    };
    if (store == Store.FILE) {
      for (String k : List.of("etcd-endpoints", "etcd-ca", "etcd-cert", "etcd-key")) {
        if (!s.text(k).isEmpty()) {
          throw new IllegalArgumentException("hub config: " + k + ": only used with store etcd (store is file)");
        }
      }
    }
    return new HubConfig(
        Path.of(s.text("data-dir")),
        s.get("listen", HostPort::parseListen),
        s.text("mesh"),
        s.text("hub-name"),
        metrics.isEmpty() || metrics.equals("off") ? Optional.empty() : Optional.of(s.get("metrics-listen", HostPort::parseListen)),
        s.get("cert-validity", Durations::parse),
        s.get("bookmark-interval", Durations::parse),
        s.get("snapshot-chunk-size", Integer::parseInt),
        s.get("max-concurrent-snapshots", Integer::parseInt),
        s.get("max-waiting-snapshots", Integer::parseInt),
        s.get("overload-retry-after", Durations::parse),
        s.get("retained-entries", Integer::parseInt),
        s.get("checkpoint-interval", Integer::parseInt),
        s.get("enroll-rate", HubConfig::rate),
        s.get("announce-rate", HubConfig::rate),
        s.get("max-message-bytes", Integer::parseInt),
        s.get("max-cidr-prefix", AddressPolicy::parse),
        store,
        store == Store.ETCD ? Optional.of(etcd(s)) : Optional.empty(),
        s.text("relay-listen").equals("off") || s.text("relay-listen").isEmpty() ? Optional.empty()
            : Optional.of(s.get("relay-listen", HostPort::parseListen)),
        s.get("relays", HubConfig::relayList),
        s.get("default-peering", PeeringDefault::parse));
  }

  private static EtcdSettings etcd(Settings s) {
    List<URI> endpoints = s.get("etcd-endpoints", EtcdSettings::parseEndpoints);
    String ca = s.text("etcd-ca");
    String cert = s.text("etcd-cert");
    String key = s.text("etcd-key");
    return new EtcdSettings(endpoints, ca.isEmpty() ? null : Path.of(ca), cert.isEmpty() ? null : Path.of(cert),
        key.isEmpty() ? null : Path.of(key), s.text("etcd-prefix"));
  }

  /** Reads a YAML map of settings, then applies {@code overrides} (flags) on top. */
  public static HubConfig fromYaml(Path file, Map<String, String> overrides) {
    Map<String, String> values = new LinkedHashMap<>();
    try (InputStream in = Files.newInputStream(file)) {
      Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      if (loaded != null && !(loaded instanceof Map<?, ?>)) {
        throw new IllegalArgumentException("hub config " + file + ": expected a map of settings");
      }
      if (loaded instanceof Map<?, ?> map) {
        // A YAML list (relays) reads as the comma-separated form flags use.
        map.forEach((k, v) -> values.put(String.valueOf(k), v instanceof List<?> list
            ? String.join(",", list.stream().map(String::valueOf).toList()) : String.valueOf(v)));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("hub config " + file + ": cannot read: " + e.getMessage(), e);
    }
    values.putAll(overrides);
    try {
      return parse(values);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Typed access to raw settings, turning parse errors into messages that name the key. */
  private record Settings(Map<String, String> values) {
    String text(String key) {
      String v = values.get(key);
      if (v == null) {
        throw new IllegalArgumentException("hub config: " + key + ": is required");
      }
      return v;
    }

    <T> T get(String key, java.util.function.Function<String, T> parser) {
      String v = text(key);
      try {
        return parser.apply(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("hub config: " + key + ": \"" + v + "\" is not a number", e);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("hub config: " + key + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Parses a comma-separated relay list, e.g. {@code relay-1.example.com:443,10.0.0.5:443}; empty:
   * none.
   */
  private static List<HostPort> relayList(String value) {
    List<HostPort> out = new ArrayList<>();
    String[] parts = value.split(",", -1);
    if (value.isBlank()) {
      return out;
    }
    for (int i = 0; i < parts.length; i++) {
      try {
        out.add(HostPort.parse(parts[i].trim()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("entry " + (i + 1) + " " + e.getMessage()
            + " (expected a comma-separated list of host:port)", e);
      }
    }
    return out;
  }

  /** Parses {@code "20/1s"}: 20 permits per second. */
  private static RateLimits.Limit rate(String value) {
    int slash = value.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("\"" + value + "\": expected permits/period, e.g. 20/1s");
    }
    return new RateLimits.Limit(Integer.parseInt(value.substring(0, slash).trim()),
        Durations.parse(value.substring(slash + 1).trim()));
  }
}
