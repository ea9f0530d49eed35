package io.meshwire.loadtests.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code BenchReport} turns a bench result document (the JSON written by {@code bench hub}) into
 * the report files: the fan-out plot ({@code fanout.svg}) and a Markdown table ({@code results.md}).
 * Works from the parsed JSON so a saved result can be re-plotted. Stateless.
 */
public final class BenchReport {

  /** The fan-out p99 goal at 10,000 agents (issue 17), drawn on the plot. */
  public static final double FANOUT_P99_GOAL_MS = 150;

  private BenchReport() {}

  /** Writes {@code fanout.svg} and {@code results.md} for {@code doc} into {@code dir}. */
  public static void write(Object doc, Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("fanout.svg"), fanoutSvg(doc));
    Files.writeString(dir.resolve("results.md"), markdown(doc));
  }

  /**
   * One document holding the runs of {@code docs} ordered by agent count (machine and settings of
   * the first, violations of all): a sweep run one N at a time, reported as one. Documents whose
   * pinning differs are refused (a table mixing pinned and unpinned rows would mislead).
   */
  public static Object merge(List<Object> docs) {
    if (docs.size() == 1) {
      return docs.get(0);
    }
    Object first = docs.get(0);
    List<Object> runs = new ArrayList<>();
    List<Object> violations = new ArrayList<>();
    for (Object doc : docs) {
      if (!pinningLine(doc).equals(pinningLine(first))) {
        throw new IllegalArgumentException("cannot merge \"" + pinningLine(first) + "\" with \"" + pinningLine(doc)
            + "\"");
      }
      runs.addAll(runs(doc));
      if (Json.at(doc, "violations") instanceof List<?> v) {
        violations.addAll(v);
      }
    }
    runs.sort(java.util.Comparator.comparingDouble(run -> num(run, "agents")));
    Map<String, Object> merged = new java.util.LinkedHashMap<>();
    if (first instanceof Map<?, ?> m) {
      m.forEach((k, v) -> merged.put(String.valueOf(k), v));
    }
    merged.put("runs", runs);
    merged.put("violations", violations);
    return merged;
  }

  public static String fanoutSvg(Object doc) {
    List<SvgPlot.Point> hub50 = new ArrayList<>();
    List<SvgPlot.Point> hub99 = new ArrayList<>();
    List<SvgPlot.Point> etcd50 = new ArrayList<>();
    List<SvgPlot.Point> etcd99 = new ArrayList<>();
    for (Object run : runs(doc)) {
      double n = num(run, "agents");
      hub50.add(new SvgPlot.Point(n, num(run, "fanout", "to_all_watchers", "p50_ms")));
      hub99.add(new SvgPlot.Point(n, num(run, "fanout", "to_all_watchers", "p99_ms")));
      etcd50.add(new SvgPlot.Point(n, num(run, "etcd", "fanout", "to_all_watchers", "p50_ms")));
      etcd99.add(new SvgPlot.Point(n, num(run, "etcd", "fanout", "to_all_watchers", "p99_ms")));
    }
    List<SvgPlot.Series> series = new ArrayList<>(List.of(
        new SvgPlot.Series("hub p50", "#1f77b4", false, hub50),
        new SvgPlot.Series("hub p99", "#1f77b4", true, hub99)));
    if (etcd50.stream().anyMatch(p -> !Double.isNaN(p.y()))) {
      series.add(new SvgPlot.Series("etcd p50", "#ff7f0e", false, etcd50));
      series.add(new SvgPlot.Series("etcd p99", "#ff7f0e", true, etcd99));
    }
    String machine = String.valueOf(Json.at(doc, "machine", "cpus")) + " CPUs";
    return SvgPlot.render("Fan-out: write to arrival at every watcher (" + machine.replace(".0 ", " ") + ")",
        "watchers (N agents)", "latency (ms, log)", series,
        List.of(new SvgPlot.Reference("goal: p99 <= 150 ms at N=10,000", FANOUT_P99_GOAL_MS)));
  }

  public static String markdown(Object doc) {
    StringBuilder md = new StringBuilder();
    md.append("Machine: ").append(machineLine(doc)).append("\n\n");
    md.append(pinningLine(doc)).append("\n\n");
    md.append("| N | join: all caught up (s) | fan-out p50 / p99 / max (ms) | etcd p50 / p99 (ms) | hub/etcd p50, p99 "
        + "| storm: all caught up (s) from kill / from READY | storm snapshots | storm KiB/agent | bytes/change/agent "
        + "| hub heap/agent (KiB) | heap/connection (KiB) | hub RSS/agent (KiB) | etcd RSS/watcher (KiB) "
        + "| hub CPU us/delivery | etcd CPU us/delivery |\n");
    md.append("|---".repeat(16)).append("|\n");
    for (Object run : runs(doc)) {
      boolean etcd = Json.at(run, "etcd") != null;
      md.append(String.format(Locale.ROOT,
          "| %,d | %.1f | %s / %s / %s | %s | %s | %.1f / %.1f | %d | %.1f | %.0f | %.1f | %.1f | %.1f | %s | %.1f | %s |%n",
          (long) num(run, "agents"),
          num(run, "join", "all_caught_up_s"),
          f(num(run, "fanout", "to_all_watchers", "p50_ms")),
          f(num(run, "fanout", "to_all_watchers", "p99_ms")),
          f(num(run, "fanout", "to_all_watchers", "max_ms")),
          etcd ? f(num(run, "etcd", "fanout", "to_all_watchers", "p50_ms")) + " / "
              + f(num(run, "etcd", "fanout", "to_all_watchers", "p99_ms")) : "-",
          etcd ? String.format(Locale.ROOT, "%.2f, %.2f", num(run, "hub_over_etcd", "fanout_p50"),
              num(run, "hub_over_etcd", "fanout_p99")) : "-",
          num(run, "storm", "kill_to_all_caught_up_s"),
          num(run, "storm", "ready_to_all_caught_up_s"),
          (long) num(run, "storm", "snapshots"),
          num(run, "storm", "bytes_per_agent") / 1024,
          num(run, "fanout", "bytes_per_change_per_agent"),
          num(run, "memory", "heap_per_agent_bytes") / 1024,
          num(run, "memory", "heap_per_connection_bytes") / 1024,
          num(run, "memory", "rss_per_agent_bytes") / 1024,
          etcd ? String.format(Locale.ROOT, "%.1f", num(run, "etcd", "rss_per_watcher_bytes") / 1024) : "-",
          num(run, "fanout", "cpu_us_per_delivery"),
          etcd ? String.format(Locale.ROOT, "%.1f", num(run, "etcd", "fanout", "cpu_us_per_delivery")) : "-"));
    }
    return md.toString();
  }

  private static String machineLine(Object doc) {
    Object m = Json.at(doc, "machine");
    if (!(m instanceof Map<?, ?>)) {
      return "unknown";
    }
    return String.format(Locale.ROOT, "%d CPUs (%s), %.1f GiB RAM, JDK %s, %s, %s", (long) num(m, "cpus"),
        Json.at(m, "cpu_model"), num(m, "memory_bytes") / (1L << 30), Json.at(m, "jdk"), Json.at(m, "os"),
        Json.at(m, "date"));
  }

  /** Where the hub and the load generator ran (the settings of {@code --pin-hub}, {@code --pin-load}). */
  static String pinningLine(Object doc) {
    Object hub = Json.at(doc, "settings", "pin_hub");
    Object load = Json.at(doc, "settings", "pin_load");
    if (hub == null && load == null) {
      return "Not pinned: the hub, etcd and the load generator share every CPU.";
    }
    return "Pinned: hub and etcd on CPUs " + (hub == null ? "(any)" : hub) + ", load generator on CPUs "
        + (load == null ? "(any)" : load) + ".";
  }

  private static String f(double ms) {
    return Double.isNaN(ms) ? "-" : ms >= 100 ? String.format(Locale.ROOT, "%.0f", ms)
        : String.format(Locale.ROOT, "%.1f", ms);
  }

  private static List<?> runs(Object doc) {
    return Json.at(doc, "runs") instanceof List<?> l ? l : List.of();
  }

  /** A number in the document, NaN when absent (or written as null). */
  static double num(Object doc, Object... path) {
    return Json.at(doc, path) instanceof Number n ? n.doubleValue() : Double.NaN;
  }
}
