package io.meshwire.loadtests;

import io.grpc.netty.GrpcSslContexts;
import io.meshwire.certs.MeshCa;
import io.meshwire.loadtests.agent.AgentFleet;
import io.meshwire.loadtests.agent.AgentRecords;
import io.meshwire.loadtests.etcd.EtcdFanout;
import io.meshwire.loadtests.fanout.FanoutTracker;
import io.meshwire.loadtests.process.ChildProcesses;
import io.meshwire.loadtests.process.CpuSet;
import io.meshwire.loadtests.process.HubProcess;
import io.meshwire.loadtests.process.ProcStats;
import io.meshwire.loadtests.report.Latencies;
import io.meshwire.netlab.etcd.EtcdCluster;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code HubBench} runs the hub load test at each agent count of a {@link HubBenchConfig}: a hub in
 * a child JVM, N simulated agents in this JVM, the four scenarios (join, fan-out, reconnect storm,
 * memory) and, when asked, the same fan-out against etcd. Children are stopped by PID in every
 * outcome ({@code try}-with-resources, and {@link ChildProcesses}' shutdown hook as a last resort).
 * Every wait is bounded by {@link HubBenchConfig#phaseTimeout()}. Not thread-safe: one run at a time.
 */
final class HubBench {

  private static final Logger log = LoggerFactory.getLogger(HubBench.class);
  /** etcd keys the changes rotate over, like a fleet where a few clusters change at a time. */
  private static final int ETCD_KEYS = 100;
  /** The hub's histogram of append-to-write time per watcher (Prometheus name). */
  private static final String FANOUT_LAG = "meshwire_hub_fanout_lag_seconds";
  /** File descriptors the bench needs beyond one per agent (jars, epoll, pipes, etcd clients). */
  private static final int SPARE_FDS = 2048;

  private final HubBenchConfig config;
  /** What the kernel said each process may run on ({@code Cpus_allowed_list}), by role; the last run's. */
  private final Map<String, String> observedCpus = new ConcurrentHashMap<>();

  public HubBench(HubBenchConfig config) {
    this.config = config;
  }

  /** The CPUs the load generator, the hub and etcd were allowed to run on, as the kernel reported them. */
  public Map<String, String> observedCpus() {
    return new TreeMap<>(observedCpus);
  }

  /**
   * Runs every agent count in turn, handing each result to {@code done} as soon as it is complete
   * (so a sweep that fails at a large N keeps what it measured below it); a failure ends the sweep
   * (the exception says where).
   */
  public List<RunResult> run(Consumer<List<RunResult>> done) throws IOException {
    checkLimits();
    if (config.pinLoad() != null) {
      // Threads started from now on (event loops, jetcd's) inherit the set from their creators.
      long self = ProcessHandle.current().pid();
      config.pinLoad().pin(self);
      log.info("load generator pinned cpus={}", config.pinLoad());
    }
    observedCpus.put("load", CpuSet.allowedList(ProcessHandle.current().pid()));
    List<RunResult> results = new ArrayList<>();
    for (int n : config.agents()) {
      results.add(runOne(n));
      done.accept(List.copyOf(results));
    }
    return results;
  }

  private void checkLimits() {
    int max = config.agents().stream().max(Integer::compare).orElseThrow();
    long limit = ProcStats.openFilesLimit();
    if (limit > 0 && limit < max + SPARE_FDS) {
      throw new IllegalStateException("open files limit (ulimit -n) is " + limit + ", " + max + " agents need at least "
          + (max + SPARE_FDS) + ": raise it (ulimit -n " + (max + SPARE_FDS) + ") and run again");
    }
  }

  RunResult runOne(int n) throws IOException {
    Files.createDirectories(config.workBase());
    Path work = Files.createTempDirectory(config.workBase(), "meshwire-bench-" + n + "-");
    log.info("run start agents={} changes={} work={}", n, config.changes(), work);
    try {
      HubPart hub = runHub(n, work);
      RunResult.Etcd etcd = config.withEtcd() ? runEtcd(n) : null;
      // Hub replicas on etcd next to the single file-store hub, in the same run (--store etcd --replicas R).
      RunResult.Replicated replicated = config.etcdReplicas() > 0
          ? new ReplicatedHubBench(config, this).run(n, work.resolve("replicated")) : null;
      RunResult r = new RunResult(n, config.changes(), hub.join(), hub.fanout(), hub.storm(), hub.memory(), etcd,
          replicated);
      log.info("run done agents={} join_s={} fanout_p50_ms={} fanout_p99_ms={} storm_s={} heap_per_agent={}",
          n, r.join().seconds(), r.hubFanout().allWatchers().p50Ms(), r.hubFanout().allWatchers().p99Ms(),
          r.storm().totalSeconds(), Math.round(r.hubMemory().heapPerAgent(n)));
      return r;
    } finally {
      ChildProcesses.killAll();
      if (!config.keepWork()) {
        deleteTree(work);
      }
    }
  }

  private record HubPart(MeshCa ca, RunResult.Join join, RunResult.Fanout fanout, RunResult.Storm storm,
      RunResult.Memory memory) {}

  private HubPart runHub(int n, Path work) {
    Duration timeout = config.phaseTimeout();
    try (HubProcess hub = HubProcess.start(work.resolve("hub"), config.hubSettings(), config.hubJvmArgs(),
        config.pinHub())) {
      observedCpus.put("hub", CpuSet.allowedList(hub.pid()));
      log.info("hub ready pid={} port={} cpus={}", hub.pid(), hub.port(), observedCpus.get("hub"));
      pause(config.settle());
      long baseHeap = ProcStats.heapAfterGcBytes(hub.pid());
      long baseRss = ProcStats.rssBytes(hub.pid());
      MeshCa ca = MeshCa.load(work.resolve("hub").resolve("ca"), InstantSource.system());

      long c0 = System.nanoTime();
      AgentFleet fleet = AgentFleet.create(ca, hub.port(), n, config.eventLoopThreads(), config.backoff());
      double certSeconds = seconds(System.nanoTime() - c0);
      RunResult.Join join;
      RunResult.Fanout fanout;
      RunResult.Storm storm;
      long heapN;
      long rssN;
      long heapRestartedN;
      try {
        // (a) join: everyone announces, then everyone watches from scratch (a snapshot each).
        long j0 = System.nanoTime();
        int failed = fleet.announceAll(config.joinConcurrency(), timeout);
        long j1 = System.nanoTime();
        fleet.watchAll();
        fleet.awaitCaughtUp(n, timeout);
        long j2 = System.nanoTime();
        AgentFleet.Totals t = fleet.totals();
        join = new RunResult.Join(seconds(j2 - j0), seconds(j1 - j0), seconds(j2 - j1), fleet.caughtUp(), failed,
            t.snapshots(), t.chunks(), t.refusals(), t.bytes() / n, certSeconds);
        log.info("join done agents={} caught_up={} seconds={} snapshots={} refusals={}", n, join.caughtUp(),
            join.seconds(), join.snapshots(), join.refusals());

        // (d) memory with N idle connected agents.
        pause(config.settle());
        heapN = ProcStats.heapAfterGcBytes(hub.pid());
        rssN = ProcStats.rssBytes(hub.pid());

        // (b) fan-out: closed loop, each change from Announce to every watcher.
        fanout = hubFanout(hub, fleet, n);
        log.info("fanout done agents={} p50_ms={} p99_ms={} max_ms={} incomplete={}", n, fanout.allWatchers().p50Ms(),
            fanout.allWatchers().p99Ms(), fanout.allWatchers().maxMs(), fanout.incomplete());

        // (c) reconnect storm.
        storm = storm(hub, fleet, n);
        log.info("storm done agents={} caught_up={} seconds={} snapshots={} bytes_per_agent={} tls_resumed={}", n,
            storm.caughtUp(), storm.totalSeconds(), storm.snapshots(), storm.bytesPerAgent(), storm.tlsResumed());
        pause(config.settle());
        heapRestartedN = ProcStats.heapAfterGcBytes(hub.pid());
      } finally {
        fleet.close();
      }
      // Every agent gone: what is left is the membership state without connections.
      long heapGone = awaitNoWatchers(hub) ? ProcStats.heapAfterGcBytes(hub.pid()) : -1;
      RunResult.Memory memory = new RunResult.Memory(baseHeap, baseRss, heapN, rssN, heapRestartedN, heapGone);
      return new HubPart(ca, join, fanout, storm, memory);
    }
  }

  private boolean awaitNoWatchers(HubProcess hub) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      double w = hub.metric("meshwire_hub_watchers");
      if (w == 0) {
        return true;
      }
      pause(Duration.ofMillis(200));
    }
    log.warn("hub still reports watchers 30s after every agent disconnected");
    return false;
  }

  private RunResult.Fanout hubFanout(HubProcess hub, AgentFleet fleet, int n) {
    warmUp(n, fleet::useTracker, k -> fleet.agent(k % n).announce());
    FanoutTracker tracker = new FanoutTracker(n, config.changes() + 16);
    fleet.useTracker(tracker);
    tracker.arm(true);
    AgentFleet.Totals before = fleet.totals();
    var lag0 = hub.histogram(FANOUT_LAG);
    double cpu0 = ProcStats.cpuSeconds(hub.pid());
    long f0 = System.nanoTime();
    int m = runChanges(tracker, k -> fleet.agent(k % n).announce());
    long f1 = System.nanoTime();
    double cpu1 = ProcStats.cpuSeconds(hub.pid());
    Latencies lag = Latencies.ofHistogramDelta(lag0, hub.histogram(FANOUT_LAG));
    tracker.arm(false);
    AgentFleet.Totals delta = fleet.totals().minus(before);
    FanoutTracker.Summary s = tracker.summarize();
    double deliveries = (double) m * n;
    return new RunResult.Fanout(s.changes(), s.incomplete(), s.allWatchers(), s.perDelivery(), lag,
        delta.bytes() / deliveries, delta.changeBytes() / deliveries, (cpu1 - cpu0) * 1e6 / deliveries,
        seconds(f1 - f0));
  }

  /**
   * Writes {@code config.changes()} changes one after another; each is timed until every watcher
   * has it (or the phase timeout), then the next follows after the configured interval.
   *
   * @return how many changes were written
   */
  int runChanges(FanoutTracker tracker, Function<Integer, CompletableFuture<Long>> write) {
    return runChanges(config.changes(), tracker, write);
  }

  /**
   * Before a fan-out phase: {@code --warmup-changes} changes written and delivered to every watcher
   * as in the phase, not measured. A hub that just joined its agents still compiles its fan-out
   * path (JIT); three replicas that each served a third of the join are further from it than one
   * hub that served all of it, so without a warm-up the comparison times compilation, not the
   * store. Every part of a run (file hub, etcd, replicas) gets the same warm-up.
   *
   * @param use installs the warm-up's tracker where the watchers report arrivals
   */
  void warmUp(int watchers, Consumer<FanoutTracker> use, Function<Integer, CompletableFuture<Long>> write) {
    if (config.warmupChanges() == 0) {
      return;
    }
    FanoutTracker t = new FanoutTracker(watchers, config.warmupChanges() + 16);
    use.accept(t);
    t.arm(true);
    long w0 = System.nanoTime();
    int written = runChanges(config.warmupChanges(), t, write);
    t.arm(false);
    log.info("warm-up done changes={} watchers={} seconds={}", written, watchers, seconds(System.nanoTime() - w0));
  }

  private int runChanges(int count, FanoutTracker tracker, Function<Integer, CompletableFuture<Long>> write) {
    long phaseDeadline = System.nanoTime() + config.phaseTimeout().toNanos() * 4;
    int written = 0;
    for (int k = 0; k < count && System.nanoTime() < phaseDeadline; k++) {
      long start = System.nanoTime();
      long revision;
      try {
        revision = write.apply(k).get(config.phaseTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("change " + k + " was not written: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      written++;
      FanoutTracker.Change c = tracker.written(revision, start);
      if (!c.awaitAll(config.phaseTimeout())) {
        log.warn("change did not reach every watcher revision={} missing={}", revision, c.missing());
      }
      pause(config.changeInterval());
    }
    return written;
  }

  private RunResult.Storm storm(HubProcess hub, AgentFleet fleet, int n) {
    AgentFleet.Totals before = fleet.totals();
    java.util.Map<String, Long> closesBefore = fleet.streamCloses();
    long[] snapsBefore = fleet.snapshotCounts();
    long k0 = System.nanoTime();
    hub.kill();
    if (!fleet.awaitNoneCaughtUp(Duration.ofSeconds(30))) {
      log.warn("storm: {} agents still caught up 30s after the hub was killed", fleet.caughtUp());
    }
    long r0 = System.nanoTime();
    hub.restart();
    long r1 = System.nanoTime();
    fleet.awaitCaughtUp(n, config.phaseTimeout());
    long r2 = System.nanoTime();
    AgentFleet.Totals delta = fleet.totals().minus(before);
    long[] snapsAfter = fleet.snapshotCounts();
    long withSnapshot = 0;
    for (int i = 0; i < n; i++) {
      if (snapsAfter[i] > snapsBefore[i]) {
        withSnapshot++;
      }
    }
    long[] catchUp = java.util.Arrays.stream(fleet.caughtUpTimes()).filter(t -> t != 0).map(t -> Math.max(0, t - r1))
        .toArray();
    return new RunResult.Storm(seconds(r2 - k0), seconds(r2 - r1), seconds(r1 - r0), fleet.caughtUp(),
        delta.snapshots(), withSnapshot, delta.chunks(), delta.refusals(), delta.bytes() / n,
        Latencies.ofNanos(catchUp), minus(fleet.streamCloses(), closesBefore),
        (long) hub.metric("meshwire_hub_tls_resumed_total")); // the restarted process counts from 0
  }

  private static java.util.Map<String, Long> minus(java.util.Map<String, Long> after,
      java.util.Map<String, Long> before) {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    after.forEach((k, v) -> {
      long d = v - before.getOrDefault(k, 0L);
      if (d > 0) {
        out.put(k, d);
      }
    });
    return out;
  }

  private RunResult.Etcd runEtcd(int n) throws IOException {
    int clients = Math.min(n, config.etcdMaxClients());
    try (EtcdCluster cluster = EtcdCluster.start(config.etcdBinary(), 1)) {
      if (config.pinHub() != null) {
        // The system under test gets the hub's CPUs; etcd (Go) sized GOMAXPROCS for the set it started with.
        config.pinHub().pin(cluster.pid(0));
      }
      EtcdCluster.ClientTls tls = cluster.clientTls();
      SslContext ssl = GrpcSslContexts.forClient()
          .trustManager(tls.ca().toFile())
          .keyManager(tls.cert().toFile(), tls.key().toFile())
          .build();
      observedCpus.put("etcd", CpuSet.allowedList(cluster.pid(0)));
      log.info("etcd ready pid={} endpoint={} cpus={}", cluster.pid(0), cluster.endpoint(0), observedCpus.get("etcd"));
      pause(config.settle());
      long baseRss = ProcStats.rssBytes(cluster.pid(0));
      double baseGoHeap = cluster.metric(0, "go_memstats_heap_inuse_bytes");
      FanoutTracker tracker = new FanoutTracker(n, config.changes() + 16);
      long w0 = System.nanoTime();
      try (EtcdFanout fan = EtcdFanout.open(cluster.endpoint(0), ssl, n, clients, tracker)) {
        fan.awaitCreated(n, config.phaseTimeout());
        double setup = seconds(System.nanoTime() - w0);
        log.info("etcd watchers created={} of {} connections={} seconds={}", fan.created(), n, fan.connections(), setup);
        pause(config.settle());
        long rssN = ProcStats.rssBytes(cluster.pid(0));
        double goHeapN = cluster.metric(0, "go_memstats_heap_inuse_bytes");
        warmUp(n, fan::useTracker, k -> fan.put(AgentRecords.clusterId(k % ETCD_KEYS),
            AgentRecords.record(k % ETCD_KEYS, k + 1L).toByteArray()));
        fan.useTracker(tracker);
        tracker.arm(true);
        double cpu0 = ProcStats.cpuSeconds(cluster.pid(0));
        long f0 = System.nanoTime();
        int m = runChanges(tracker, k -> fan.put(AgentRecords.clusterId(k % ETCD_KEYS),
            AgentRecords.record(k % ETCD_KEYS, k + 1L).toByteArray()));
        long f1 = System.nanoTime();
        double cpu1 = ProcStats.cpuSeconds(cluster.pid(0));
        tracker.arm(false);
        FanoutTracker.Summary s = tracker.summarize();
        double deliveries = (double) m * n;
        RunResult.Fanout fanout = new RunResult.Fanout(s.changes(), s.incomplete(), s.allWatchers(), s.perDelivery(),
            Latencies.EMPTY, Double.NaN, Double.NaN, (cpu1 - cpu0) * 1e6 / deliveries, seconds(f1 - f0));
        log.info("etcd fanout done watchers={} p50_ms={} p99_ms={} incomplete={}", n, fanout.allWatchers().p50Ms(),
            fanout.allWatchers().p99Ms(), fanout.incomplete());
        return new RunResult.Etcd(n, fan.connections(), fan.created(), setup, fanout, baseRss, rssN, baseGoHeap,
            goHeapN, etcdVersion());
      }
    }
  }

  private String etcdVersion() {
    try {
      Process p = new ProcessBuilder(config.etcdBinary().toString(), "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      return out.lines().filter(l -> l.startsWith("etcd Version:")).findFirst()
          .map(l -> l.substring("etcd Version:".length()).trim()).orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }

  static void pause(Duration d) {
    if (!d.isZero() && !d.isNegative()) {
      LockSupport.parkNanos(d.toNanos());
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("cannot delete work dir={} error=\"{}\"", dir, e.toString());
    }
  }
}
