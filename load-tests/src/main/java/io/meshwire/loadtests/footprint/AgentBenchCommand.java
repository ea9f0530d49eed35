package io.meshwire.loadtests.footprint;

import io.meshwire.loadtests.HubBenchCommand;
import io.meshwire.loadtests.process.ProcStats;
import io.meshwire.loadtests.report.Json;
import io.meshwire.loadtests.report.Machine;
import io.meshwire.netlab.lab.AgentJvmOptions;
import io.meshwire.netlab.lab.MeshLab;
import io.meshwire.netlab.lab.ProcessFootprint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code AgentBenchCommand} is {@code bench agent}: the mesh agent's footprint. It runs a real hub
 * and two real agents as processes in network namespaces (MeshLab: wireguard-go tunnels, the jar
 * that ships), so the measured agent "a" has one peer; then, for each JVM option set (variant), it
 * restarts a's agent {@code --runs} times and measures, per run, the time from the spawn to its
 * READY line, and after the tunnel to b carries a ping and {@code --settle} of idling: VmRSS,
 * {@code smaps_rollup} (Pss, private memory), the thread count by name, and the heap after a full
 * GC. Medians per variant. Needs root, wireguard-go, wg and ip, like the end-to-end tests.
 */
@Command(name = "agent", description = "Mesh agent footprint: RSS, threads and start-to-READY of a real agent "
    + "with one peer, per JVM option set (needs root, wireguard-go).")
public final class AgentBenchCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--jar", paramLabel = "FILE", description = "The meshwire jar the hub and agents run. "
      + "Default: $MESHWIRE_JAR or cli/target/meshwire.jar.")
  private Path jar;

  @Option(names = "--variant", paramLabel = "NAME=OPTIONS", description = "A JVM option set for the measured agent "
      + "(repeatable; options separated by spaces, " + AgentVariant.SHIPPED + " stands for the jar's own, "
      + AgentVariant.ARCHIVE + " adds a class data sharing archive of the variant's own as the launchers do, "
      + AgentVariant.MAIN_CLASS + " starts this variant through the main class, " + AgentVariant.JAR
      + "FILE from another build of the jar, whose options " + AgentVariant.SHIPPED + " then means). "
      + "Variants take turns: run 1 of each, then run 2 of each... "
      + "Default: shipped=" + AgentVariant.SHIPPED + " " + AgentVariant.ARCHIVE + ".")
  private List<String> variants = new ArrayList<>();

  @Option(names = "--runs", defaultValue = "3", description = "Agent starts per variant. Default: ${DEFAULT-VALUE}.")
  private int runs;

  @Option(names = "--warmup", defaultValue = "0", description = "Of each variant's runs, how many first ones to leave "
      + "out of the medians (kept in --json; 1 when the first run writes a class data sharing archive). "
      + "Default: ${DEFAULT-VALUE}.")
  private int warmup;

  @Option(names = "--settle", defaultValue = "10s", converter = HubBenchCommand.DurationConverter.class,
      description = "Idle time after the tunnel is up, before measuring. Default: ${DEFAULT-VALUE}.")
  private Duration settle;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the result document here.")
  private Path json;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Lab logs and state. Default: a new temp dir.")
  private Path workDir;

  @Option(names = "--max-rss", paramLabel = "MiB", defaultValue = "0",
      description = "Exit 3 when the first variant's median RSS exceeds this (0: no check). Default: ${DEFAULT-VALUE}.")
  private int maxRssMib;

  @Option(names = "--main-class", description = "Start the measured agent through its main class (-cp ... AgentMain, as "
      + "the end-to-end tests do) instead of as the launchers do (-jar meshwire.jar agent).")
  private boolean mainClass;

  @Option(names = "--nmt", description = "Print the JVM's native memory summary (jcmd) after each run of a variant "
      + "that has -XX:NativeMemoryTracking.")
  private boolean nmt;

  @Override
  public Integer call() throws Exception {
    if (runs < 1 || warmup < 0 || warmup >= runs) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--runs must be at least 1 and above --warmup (0 or more)");
    }
    Path meshwireJar = (jar != null ? jar : Path.of(System.getenv().getOrDefault("MESHWIRE_JAR",
        "cli/target/meshwire.jar"))).toAbsolutePath();
    Path work = workDir != null ? workDir : Files.createTempDirectory("meshwire-bench-agent-");
    Map<String, AgentVariant> sets = new LinkedHashMap<>();
    for (String v : variants.isEmpty() ? List.of("shipped=" + AgentVariant.SHIPPED + " " + AgentVariant.ARCHIVE) : variants) {
      try {
        AgentVariant variant = AgentVariant.parse(v, mainClass, meshwireJar, work, AgentJvmOptions::fromJar);
        sets.put(variant.name(), variant);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    var out = spec.commandLine().getOut();
    out.printf("bench agent: %s; agent started as %s unless a variant says %s%n", Machine.current().oneLine(),
        mainClass ? "-cp meshwire.jar io.meshwire.agent.AgentMain" : "-jar meshwire.jar agent", AgentVariant.MAIN_CLASS);
    out.flush();

    Map<String, List<Map<String, Object>>> samples = new LinkedHashMap<>();
    sets.keySet().forEach(name -> samples.put(name, new ArrayList<>()));
    try (MeshLab lab = MeshLab.start(work, meshwireJar)) {
      lab.addCluster("b", "10.102.0.0/16");
      lab.addCluster("a", "10.101.0.0/16");
      lab.awaitFullMesh(List.of("a", "b"), Duration.ofSeconds(60));
      // Variants take turns, so a load that changes during the run (a shared machine) weighs on each alike.
      for (int r = 0; r < runs; r++) {
        for (AgentVariant set : sets.values()) {
          lab.agentJvmOptions(set.jvmOptions());
          lab.agentsLikeLaunchers(!set.viaMainClass());
          lab.agentJar(set.jar());
          List<Map<String, Object>> own = samples.get(set.name());
          own.add(measureRestart(lab));
          if (nmt && set.jvmOptions().stream().anyMatch(o -> o.startsWith("-XX:NativeMemoryTracking"))) {
            out.println(ProcStats.nativeMemorySummary(lab.agentPid("a")));
          }
          out.printf("  %s run %d%s: %s%n", set.name(), r + 1, r < warmup ? " (warm-up)" : "", Json.write(own.getLast()).replace("\n", " "));
          out.flush();
        }
      }
    }
    Map<String, Object> results = new LinkedHashMap<>();
    for (AgentVariant set : sets.values()) {
      List<Map<String, Object>> own = samples.get(set.name());
      Map<String, Object> variant = new LinkedHashMap<>();
      variant.put("jvm_options", set.jvmOptions());
      variant.put("launch", set.viaMainClass() ? "main-class" : "jar");
      variant.put("jar", set.jar().toString());
      variant.put("warmup_runs", warmup);
      variant.put("median", medians(own.subList(warmup, own.size())));
      variant.put("runs", own);
      results.put(set.name(), variant);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("machine", Machine.current().oneLine());
    doc.put("settle_s", settle.toSeconds());
    doc.put("launch", mainClass ? "java -cp meshwire.jar io.meshwire.agent.AgentMain" : "java -jar meshwire.jar agent");
    doc.put("variants", results);
    out.println();
    out.print(table(results));
    out.flush();
    if (json != null) {
      Files.writeString(json, Json.write(doc));
    }
    if (maxRssMib > 0) {
      @SuppressWarnings("unchecked")
      var first = (Map<String, Object>) ((Map<String, Object>) results.values().iterator().next()).get("median");
      double rss = (Double) first.get("rss_mib");
      if (rss > maxRssMib) {
        spec.commandLine().getErr().printf("bench agent: median RSS %.1f MiB exceeds --max-rss %d MiB%n", rss, maxRssMib);
        return 3;
      }
    }
    return 0;
  }

  /** Restarts a's agent (SIGTERM; its interface stays and is adopted) and measures it once. */
  private Map<String, Object> measureRestart(MeshLab lab) throws Exception {
    lab.stopAgent("a");
    Duration ready = lab.startAgent("a");
    long pid = lab.agentPid("a");
    MeshLab.awaitTrue(() -> lab.ping("a", "b", 1), Duration.ofSeconds(60), "a's tunnel to b after the restart");
    Thread.sleep(settle); // a fixed idle dwell before measuring, not a wait for a condition
    ProcessFootprint footprint = ProcessFootprint.of(pid);
    Map<String, Object> sample = new LinkedHashMap<>();
    sample.put("ready_ms", (double) ready.toMillis());
    sample.put("rss_mib", mib(footprint.rssBytes()));
    sample.put("pss_mib", mib(footprint.pssBytes()));
    sample.put("private_mib", mib(footprint.privateBytes()));
    sample.put("threads", (double) footprint.threads());
    sample.put("heap_after_gc_mib", mib(ProcStats.heapAfterGcBytes(pid)));
    sample.put("thread_names", footprint.threadsByName());
    return sample;
  }

  private static double mib(long bytes) {
    return Math.round(bytes / 1024.0 / 1024.0 * 10) / 10.0;
  }

  /** The median of every numeric field over the runs. */
  private static Map<String, Object> medians(List<Map<String, Object>> samples) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String key : samples.getFirst().keySet()) {
      if (samples.getFirst().get(key) instanceof Double) {
        out.put(key, median(samples, s -> (Double) s.get(key)));
      }
    }
    return out;
  }

  private static double median(List<Map<String, Object>> samples, ToDoubleFunction<Map<String, Object>> field) {
    double[] v = samples.stream().mapToDouble(field).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  @SuppressWarnings("unchecked")
  private static String table(Map<String, Object> results) {
    StringBuilder t = new StringBuilder("| variant | start to READY (ms) | RSS (MiB) | PSS (MiB) | private (MiB) | threads "
        + "| heap after GC (MiB) |\n|---|---|---|---|---|---|---|\n");
    for (var e : results.entrySet()) {
      var m = (Map<String, Object>) ((Map<String, Object>) e.getValue()).get("median");
      t.append(String.format(Locale.ROOT, "| %s | %.0f | %.1f | %.1f | %.1f | %.0f | %.1f |%n", e.getKey(),
          m.get("ready_ms"), m.get("rss_mib"), m.get("pss_mib"), m.get("private_mib"), m.get("threads"),
          m.get("heap_after_gc_mib")));
    }
    return t.toString();
  }
}
