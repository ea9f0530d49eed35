package io.meshwire.loadtests;

import io.meshwire.netaddr.Durations;

import io.meshwire.loadtests.process.CpuSet;
import io.meshwire.loadtests.report.BenchReport;
import io.meshwire.loadtests.report.Json;
import io.meshwire.loadtests.report.Latencies;
import io.meshwire.loadtests.report.Machine;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code HubBenchCommand} is {@code bench hub}: runs {@link HubBench} at one or more agent counts,
 * writes the JSON result (and, with {@code --report-dir}, the plot and Markdown table), prints a
 * summary, and exits 3 when a regression threshold is exceeded.
 */
@Command(name = "hub", description = "Load-tests a hub in a child JVM with N simulated agents (mTLS, one "
    + "connection each): join, fan-out of M changes, reconnect storm after SIGKILL, memory; and the same fan-out "
    + "on etcd.")
public final class HubBenchCommand implements Callable<Integer> {

  /** Exit code when a run exceeded a regression threshold. */
  public static final int THRESHOLD_EXCEEDED = 3;

  @Spec private CommandSpec spec;

  @Option(names = "--agents", split = ",", paramLabel = "N", defaultValue = "1000",
      description = "Agent counts, one run each (a sweep), e.g. 100,1000,5000,10000. Default: ${DEFAULT-VALUE}.")
  private List<Integer> agents;

  @Option(names = "--changes", paramLabel = "M", description = "Membership changes in the fan-out phase. "
      + "Default: 200, or 50 with --quick.")
  private Integer changes;

  @Option(names = "--warmup-changes", paramLabel = "W", defaultValue = "0",
      description = "Changes delivered to every watcher before each fan-out phase (file hub, etcd, replicas "
          + "alike) and not measured, so what is timed is compiled code, not the JIT. Default: ${DEFAULT-VALUE}.")
  private int warmupChanges;

  @Option(names = "--quick", description = "Fewer changes and shorter settling pauses: a regression check "
      + "(under 2 minutes at 1000 agents on 2 cores).")
  private boolean quick;

  @Option(names = "--with-etcd", description = "Also run the fan-out against etcd (the default; needs --etcd-binary).")
  private boolean withEtcd;

  @Option(names = "--no-etcd", description = "Run the hub only.")
  private boolean noEtcd;

  @Option(names = "--etcd-binary", paramLabel = "PATH", defaultValue = "/usr/bin/etcd",
      description = "etcd 3.4 binary. Default: ${DEFAULT-VALUE}.")
  private Path etcdBinary;

  @Option(names = "--etcd-max-clients", paramLabel = "C", defaultValue = "1000",
      description = "At most C jetcd clients (connections); more watchers share them. Default: ${DEFAULT-VALUE}.")
  private int etcdMaxClients;

  @Option(names = "--store", paramLabel = "file|etcd", defaultValue = "file",
      description = "etcd: also run --replicas hub replicas on a 3-member etcd cluster next to the file-store hub, "
          + "with the same agents (fan-out, heap per agent, failover when a replica is SIGKILLed). Default: ${DEFAULT-VALUE}.")
  private String store;

  @Option(names = "--replicas", paramLabel = "R", defaultValue = "3",
      description = "With --store etcd: hub replicas (1..5). Default: ${DEFAULT-VALUE}.")
  private int replicas;

  @Option(names = "--etcd-timing", paramLabel = "defaults|fast", defaultValue = "defaults",
      description = "Raft timing of the replicas' etcd members: etcd's defaults (heartbeat 100 ms, election 1 s; "
          + "default) or the tests' fast failover (50 ms, 500 ms), under which a member starved of CPU on a loaded "
          + "machine starts elections a production cluster would not see.")
  String etcdTiming;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the result document here.")
  private Path json;

  @Option(names = "--report-dir", paramLabel = "DIR",
      description = "Write results.json, fanout.svg and results.md here.")
  private Path reportDir;

  @Option(names = "--replot", paramLabel = "FILE", split = ",",
      description = "Run nothing: write --report-dir's plot and table from saved result documents; several "
          + "(one per N, e.g. a sweep run one N at a time) are merged into one results.json, runs ordered by N.")
  private List<Path> replot;

  @Option(names = "--change-interval", paramLabel = "DURATION", defaultValue = "20ms",
      converter = DurationConverter.class,
      description = "Pause after a change reached every watcher, before the next. Default: ${DEFAULT-VALUE}.")
  private Duration changeInterval;

  @Option(names = "--join-concurrency", paramLabel = "K", defaultValue = "256",
      description = "Agents connecting and announcing at once. Default: ${DEFAULT-VALUE}.")
  private int joinConcurrency;

  @Option(names = "--client-threads", paramLabel = "T", defaultValue = "2",
      description = "Netty event loop threads shared by all simulated agents. Default: ${DEFAULT-VALUE}.")
  private int clientThreads;

  @Option(names = "--backoff-base", paramLabel = "DURATION", defaultValue = "200ms",
      converter = DurationConverter.class,
      description = "Agents' reconnect back-off: first ceiling of the full jitter. Default: ${DEFAULT-VALUE} (the agent's).")
  private Duration backoffBase;

  @Option(names = "--backoff-cap", paramLabel = "DURATION", defaultValue = "15s",
      converter = DurationConverter.class,
      description = "Agents' reconnect back-off: largest ceiling. Default: ${DEFAULT-VALUE} (the agent's).")
  private Duration backoffCap;

  @Option(names = "--phase-timeout", paramLabel = "DURATION", defaultValue = "180s",
      converter = DurationConverter.class,
      description = "Bound on each phase and on each change's fan-out. Default: ${DEFAULT-VALUE}.")
  private Duration phaseTimeout;

  @Option(names = "--hub-jvm-arg", paramLabel = "ARG", description = "Extra JVM argument for the hub (repeatable).")
  private List<String> hubJvmArgs = new ArrayList<>();

  @Option(names = "--hub-setting", paramLabel = "KEY=VALUE",
      description = "Extra hub setting (a HubConfig key, e.g. snapshot-chunk-size=1000; repeatable).")
  private Map<String, String> hubSettings = new LinkedHashMap<>();

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Where hub and etcd data go. Default: the temp dir.")
  private Path workDir;

  @Option(names = "--keep-work", description = "Keep the data directories and logs after the run.")
  private boolean keepWork;

  @Option(names = "--pin-hub", paramLabel = "CPUS",
      description = "Pin the hub (from its start, so it sizes its event loops for them) and etcd to these CPUs "
          + "(taskset -c syntax: 1, 0-1, 0,2). Default: not pinned.")
  private String pinHub;

  @Option(names = "--pin-load", paramLabel = "CPUS",
      description = "Pin this JVM (the simulated agents, etcd watchers) to these CPUs; must not overlap --pin-hub. "
          + "Default: not pinned.")
  private String pinLoad;

  @Option(names = "--threshold-fanout-p99", paramLabel = "DURATION", defaultValue = "5s",
      converter = DurationConverter.class, description = "Fail when the fan-out p99 exceeds this. Default: ${DEFAULT-VALUE}.")
  private Duration thresholdFanoutP99;

  @Option(names = "--threshold-join", paramLabel = "DURATION", defaultValue = "60s",
      converter = DurationConverter.class, description = "Fail when the join takes longer. Default: ${DEFAULT-VALUE}.")
  private Duration thresholdJoin;

  @Option(names = "--threshold-storm", paramLabel = "DURATION", defaultValue = "60s",
      converter = DurationConverter.class,
      description = "Fail when the reconnect storm takes longer (kill to all caught up). Default: ${DEFAULT-VALUE}.")
  private Duration thresholdStorm;

  @Option(names = "--threshold-all-caught-up", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Fail when any agent is not caught up after a phase, or a change missed a watcher. Default: on.")
  private boolean thresholdAllCaughtUp;

  /** Parses durations as operators write them: 500ms, 5s, 2m. */
  public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Durations.parse(value);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (replot != null) {
      if (reportDir == null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--replot needs --report-dir");
      }
      List<Object> docs = new ArrayList<>();
      for (Path file : replot) {
        docs.add(Json.parse(Files.readString(file)));
      }
      Object doc;
      try {
        doc = BenchReport.merge(docs);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--replot: " + e.getMessage());
      }
      if (docs.size() > 1) {
        Files.createDirectories(reportDir);
        Files.writeString(reportDir.resolve("results.json"), Json.write(doc));
      }
      BenchReport.write(doc, reportDir);
      spec.commandLine().getOut().print(BenchReport.markdown(doc));
      spec.commandLine().getOut().flush();
      return 0;
    }
    if (withEtcd && noEtcd) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--with-etcd and --no-etcd: choose one");
    }
    HubBenchConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    if ((config.withEtcd() || config.etcdReplicas() > 0) && !Files.isExecutable(config.etcdBinary())) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--etcd-binary: " + config.etcdBinary()
          + " is not an executable (install Debian's etcd-server, or pass --no-etcd)");
    }
    HubBench bench = new HubBench(config);
    List<RunResult> runs = bench.run(partial -> write(config, partial, bench.observedCpus()));
    List<String> violations = violations(config.thresholds(), runs);
    String text = write(config, runs, bench.observedCpus());
    PrintWriter out = spec.commandLine().getOut();
    out.print(BenchReport.markdown(Json.parse(text)));
    runs.stream().filter(r -> r.replicated() != null).forEach(r -> out.println(replicatedLine(r)));
    violations.forEach(v -> spec.commandLine().getErr().println("bench: threshold exceeded: " + v));
    out.flush();
    return violations.isEmpty() ? 0 : THRESHOLD_EXCEEDED;
  }

  /** Writes the result document (and the report files) for the runs so far; returns the JSON. */
  private String write(HubBenchConfig config, List<RunResult> runs, Map<String, String> observedCpus) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("bench", "hub");
    doc.put("machine", Machine.current().toJson());
    doc.put("settings", settingsJson(config));
    doc.put("cpus_allowed", new LinkedHashMap<>(observedCpus)); // as the kernel reported them
    doc.put("runs", runs.stream().map(RunResult::toJson).toList());
    doc.put("violations", violations(config.thresholds(), runs));
    String text = Json.write(doc);
    try {
      if (json != null) {
        Path parent = json.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(json, text);
      }
      if (reportDir != null) {
        Files.createDirectories(reportDir);
        Files.writeString(reportDir.resolve("results.json"), text);
        BenchReport.write(Json.parse(text), reportDir);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write the results: " + e.getMessage(), e);
    }
    return text;
  }

  HubBenchConfig config() {
    Path work = workDir != null ? workDir : Path.of(System.getProperty("java.io.tmpdir"));
    return new HubBenchConfig(
        agents.stream().sorted().toList(),
        changes != null ? changes : quick ? 50 : 200,
        quick,
        !noEtcd,
        etcdBinary == null ? io.meshwire.netlab.etcd.EtcdCluster.BINARY : etcdBinary,
        json,
        reportDir,
        changeInterval,
        joinConcurrency,
        clientThreads,
        etcdMaxClients,
        phaseTimeout,
        quick ? Duration.ofMillis(500) : Duration.ofSeconds(2),
        hubJvmArgs,
        hubSettings,
        work,
        keepWork,
        new io.meshwire.netaddr.Backoff(backoffBase, backoffCap, java.util.random.RandomGenerator.getDefault()),
        new HubBenchConfig.Thresholds(thresholdFanoutP99, thresholdJoin, thresholdStorm, thresholdAllCaughtUp),
        switch (store) {
          case "file" -> 0;
          case "etcd" -> replicas;
          default -> throw new IllegalArgumentException("--store: \"" + store + "\" is not file or etcd");
        },
        switch (etcdTiming) {
          case "defaults" -> io.meshwire.netlab.etcd.EtcdCluster.Timing.ETCD_DEFAULTS;
          case "fast" -> io.meshwire.netlab.etcd.EtcdCluster.Timing.FAST_FAILOVER;
          default -> throw new IllegalArgumentException("--etcd-timing: \"" + etcdTiming + "\" is not defaults or fast");
        },
        cpus("--pin-hub", pinHub),
        cpus("--pin-load", pinLoad),
        warmupChanges);
  }

  private static CpuSet cpus(String option, String spec) {
    if (spec == null) {
      return null;
    }
    try {
      return CpuSet.parse(spec);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
    }
  }

  /** One line comparing the replicas on etcd with the file-store hub of the same run. */
  static String replicatedLine(RunResult r) {
    RunResult.Replicated e = r.replicated();
    Latencies f = e.fanout().allWatchers();
    Latencies h = r.hubFanout().allWatchers();
    return String.format(Locale.ROOT, "N=%d etcd x%d replicas: fan-out p50/p99 %.1f/%.1f ms (file hub %.1f/%.1f ms: "
        + "%.2fx/%.2fx); heap/agent %.1f KiB (file hub %.1f KiB); failover of %d agents: p50 %.0f ms, max %.0f ms, "
        + "%d caught up elsewhere, %d snapshots", r.agents(), e.replicas(), f.p50Ms(), f.p99Ms(), h.p50Ms(), h.p99Ms(),
        f.p50Ms() / h.p50Ms(), f.p99Ms() / h.p99Ms(), e.heapPerAgent(r.agents()) / 1024,
        r.hubMemory().heapPerAgent(r.agents()) / 1024, e.failover().agentsMoved(), e.failover().catchUp().p50Ms(),
        e.failover().catchUp().maxMs(), e.failover().caughtUp(), e.failover().agentsWithSnapshot())
        + (r.etcd() == null ? "" : String.format(Locale.ROOT, "; raw etcd fan-out p50/p99 %.1f/%.1f ms (replicas: "
            + "%.2fx/%.2fx)", r.etcd().fanout().allWatchers().p50Ms(), r.etcd().fanout().allWatchers().p99Ms(),
            f.p50Ms() / r.etcd().fanout().allWatchers().p50Ms(), f.p99Ms() / r.etcd().fanout().allWatchers().p99Ms()))
        + String.format(Locale.ROOT, "; join %.1f s, announce attempts refused %s, etcd leader changes %d",
            e.joinSeconds(), e.announceErrors(), e.etcdLeaderChanges())
        + (e.etcdCommit().count() == 0 ? "" : String.format(Locale.ROOT, "; stages p50/p99 (ms): commit %.1f/%.1f, "
            + "accept to watch applied %.1f/%.1f, applied to write %.1f/%.1f", e.etcdCommit().p50Ms(),
            e.etcdCommit().p99Ms(), e.etcdWatchDelay().p50Ms(), e.etcdWatchDelay().p99Ms(),
            e.fanout().hubLag().p50Ms(), e.fanout().hubLag().p99Ms()));
  }

  /** Each exceeded threshold as one line naming the run and the figure. */
  static List<String> violations(HubBenchConfig.Thresholds t, List<RunResult> runs) {
    List<String> out = new ArrayList<>();
    for (RunResult r : runs) {
      String at = "N=" + r.agents() + ": ";
      double p99 = r.hubFanout().allWatchers().p99Ms();
      if (Double.isNaN(p99) || p99 > t.fanoutP99().toMillis()) {
        out.add(at + String.format(Locale.ROOT, "fan-out p99 %.1f ms > %d ms", p99, t.fanoutP99().toMillis()));
      }
      if (r.join().seconds() * 1000 > t.join().toMillis()) {
        out.add(at + String.format(Locale.ROOT, "join %.1f s > %d s", r.join().seconds(), t.join().toSeconds()));
      }
      if (r.storm().totalSeconds() * 1000 > t.storm().toMillis()) {
        out.add(at + String.format(Locale.ROOT, "storm %.1f s > %d s", r.storm().totalSeconds(), t.storm().toSeconds()));
      }
      if (t.allCaughtUp()) {
        if (r.join().caughtUp() < r.agents() || r.join().announceFailures() > 0) {
          out.add(at + "join: " + r.join().caughtUp() + " of " + r.agents() + " caught up, "
              + r.join().announceFailures() + " announces failed");
        }
        if (r.storm().caughtUp() < r.agents()) {
          out.add(at + "storm: " + r.storm().caughtUp() + " of " + r.agents() + " caught up");
        }
        if (r.storm().snapshots() > 0) {
          // Every agent's revision is still in the log after a restart: resuming must cost no snapshot.
          out.add(at + "storm: " + r.storm().snapshots() + " snapshots sent to resuming agents");
        }
        if (r.hubFanout().incomplete() > 0 || r.hubFanout().changes() < r.changes()) {
          out.add(at + "fan-out: " + r.hubFanout().incomplete() + " of " + r.hubFanout().changes()
              + " changes missed a watcher");
        }
        RunResult.Replicated e = r.replicated();
        if (e != null) {
          if (e.caughtUp() < r.agents() || e.announceFailures() > 0 || e.fanout().incomplete() > 0) {
            out.add(at + "replicas on etcd: " + e.caughtUp() + " of " + r.agents() + " caught up, "
                + e.announceFailures() + " announces failed, " + e.fanout().incomplete() + " changes missed a watcher");
          }
          if (e.failover().caughtUp() < e.failover().agentsMoved() || e.failover().agentsWithSnapshot() > 0) {
            out.add(at + "replica failover: " + e.failover().caughtUp() + " of " + e.failover().agentsMoved()
                + " agents caught up elsewhere, " + e.failover().agentsWithSnapshot() + " with a snapshot");
          }
        }
      }
    }
    return out;
  }

  private static Map<String, Object> settingsJson(HubBenchConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("agents", c.agents());
    m.put("changes", c.changes());
    m.put("quick", c.quick());
    m.put("with_etcd", c.withEtcd());
    m.put("etcd_replicas", c.etcdReplicas());
    m.put("etcd_timing_ms", List.of(c.etcdTiming().heartbeat().toMillis(), c.etcdTiming().election().toMillis()));
    m.put("etcd_max_clients", c.etcdMaxClients());
    m.put("change_interval_ms", c.changeInterval().toMillis());
    m.put("warmup_changes", c.warmupChanges());
    m.put("join_concurrency", c.joinConcurrency());
    m.put("client_threads", c.eventLoopThreads());
    m.put("phase_timeout_s", c.phaseTimeout().toSeconds());
    m.put("backoff_base_ms", c.backoff().base().toMillis());
    m.put("backoff_cap_ms", c.backoff().cap().toMillis());
    m.put("hub_jvm_args", c.hubJvmArgs());
    m.put("hub_settings", new LinkedHashMap<>(c.hubSettings()));
    m.put("pin_hub", c.pinHub() == null ? null : c.pinHub().list());
    m.put("pin_load", c.pinLoad() == null ? null : c.pinLoad().list());
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("fanout_p99_ms", c.thresholds().fanoutP99().toMillis());
    t.put("join_s", c.thresholds().join().toSeconds());
    t.put("storm_s", c.thresholds().storm().toSeconds());
    t.put("all_caught_up", c.thresholds().allCaughtUp());
    m.put("thresholds", t);
    return m;
  }
}
