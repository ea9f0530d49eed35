package io.meshwire.hub.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code HubMain} runs a hub until SIGTERM/SIGINT: {@code --config FILE} (YAML) and
 * {@code --<setting> VALUE} for any {@link HubConfig#KEYS} (flags win over the file). Prints
 * {@code READY <port>} on stdout once listening, for scripts and tests. The {@code meshwire hub}
 * command delegates here.
 */
public final class HubMain {

  /**
   * System property naming a file the hub creates once it serves: the {@code meshwire} launcher keeps
   * the hub's AOT cache (or, before JDK 25, its class data sharing archive) only beside it, since the
   * JVM also writes one when a start fails (with the few classes of the failure).
   */
  static final String SERVED_MARKER = "meshwire.hub.served-marker";

  private HubMain() {}

  public static void main(String[] args) throws Exception {
    HubConfig config;
    try {
      config = parseArgs(args);
    } catch (IllegalArgumentException e) {
      System.err.println("meshwire hub: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      run(config);
    } catch (HubStartException e) {
      System.err.println("meshwire hub: " + e.getMessage());
      System.exit(1);
    }
  }

  /** Parses {@code --key value} pairs; {@code --config} names a YAML file read first. */
  public static HubConfig parseArgs(String[] args) {
    Map<String, String> flags = new LinkedHashMap<>();
    Optional<Path> file = Optional.empty();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument \"" + arg + "\"");
      }
      String key = arg.substring(2);
      String value;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("--" + key + " needs a value");
        }
        value = args[++i];
      }
      if (key.equals("config")) {
        file = Optional.of(Path.of(value));
      } else {
        flags.put(key, value);
      }
    }
    return file.isPresent() ? HubConfig.fromYaml(file.get(), flags) : HubConfig.parse(flags);
  }

  /** Starts the hub and blocks until it is shut down (a JVM shutdown hook closes it). */
  public static void run(HubConfig config) throws Exception {
    MeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Heap, GC and CPU next to the hub's own metrics: memory per agent is a capacity figure.
    new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(meters);
    new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics().bindTo(meters);
    new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(meters);
    new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(meters);
    HubServer hub;
    try {
      // The JVM's own start time (the metrics binders above loaded java.management already); the
      // process's start instant rests on the kernel's boot time, which has whole-second resolution.
      hub = HubServer.start(config, InstantSource.system(), meters, Optional.of(java.time.Instant.ofEpochMilli(
          java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime())));
    } catch (io.meshwire.hub.etcd.EtcdStartException e) {
      System.err.println("meshwire hub: refusing to start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(hub::close, "hub-shutdown"));
    System.out.println("READY " + hub.port());
    System.out.flush();
    markServed(System.getProperty(SERVED_MARKER));
    hub.awaitTermination();
  }

  /** Creates the file {@code marker} names (if any); a failure costs only the archive, so it is logged. */
  static void markServed(String marker) {
    if (marker == null || marker.isEmpty()) {
      return;
    }
    try {
      java.nio.file.Files.write(Path.of(marker), new byte[0]);
    } catch (java.io.IOException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(HubMain.class).warn("cannot mark the class data sharing archive as served"
          + " file={} error=\"{}\"", marker, e.toString());
    }
  }
}
