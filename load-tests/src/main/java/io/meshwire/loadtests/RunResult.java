package io.meshwire.loadtests;

import io.meshwire.loadtests.report.Latencies;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code RunResult} is everything one run at N agents measured. Immutable; {@link #toJson()}
 * gives the report's form (snake_case keys, seconds, milliseconds and bytes).
 */
record RunResult(int agents, int changes, Join join, Fanout hubFanout, Storm storm, Memory hubMemory,
    Etcd etcd, Replicated replicated) {

  /** A run without hub replicas on etcd. */
  RunResult(int agents, int changes, Join join, Fanout hubFanout, Storm storm, Memory hubMemory, Etcd etcd) {
    this(agents, changes, join, hubFanout, storm, hubMemory, etcd, null);
  }

  /**
   * R hub replicas on an etcd cluster, the same N agents spread over them: join, fan-out (changes
   * announced through the agents' own replicas), heap of all replicas, and the failover of the
   * agents of a SIGKILLed replica.
   */
  public record Replicated(int replicas, int etcdMembers, double joinSeconds, int caughtUp, int announceFailures,
      Fanout fanout, Failover failover, long baselineHeap, long heapWithAgents, long etcdLeaderChanges,
      Map<String, Long> announceErrors, Latencies etcdCommit, Latencies etcdWatchDelay) {
    /**
     * {@code etcdLeaderChanges}: leader elections etcd's members saw from the join to the end of the
     * fan-out; {@code announceErrors}: failed announce attempts during the join by status code (an
     * attempt told to retry and then accepted counts here, not in {@code announceFailures});
     * during the fan-out, {@code etcdCommit}: the writing replica's transaction, {@code
     * etcdWatchDelay}: from the writer's acceptance to each replica's watch applying the change
     * (the fan-out's {@code hubLag} is from there to each watcher's write).
     */
    public Replicated {
      announceErrors = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(announceErrors));
    }

    public double heapPerAgent(int n) {
      return (heapWithAgents - baselineHeap) / (double) n;
    }

    Map<String, Object> toJson(int n) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("replicas", replicas);
      m.put("etcd_members", etcdMembers);
      m.put("join_all_caught_up_s", joinSeconds);
      m.put("caught_up", caughtUp);
      m.put("announce_failures", announceFailures);
      m.put("announce_errors", new java.util.TreeMap<>(announceErrors));
      m.put("etcd_leader_changes", etcdLeaderChanges);
      m.put("etcd_commit", etcdCommit.toJson());
      m.put("etcd_accept_to_watch_applied", etcdWatchDelay.toJson());
      m.put("fanout", fanout.toJson());
      m.put("failover", failover.toJson());
      m.put("baseline_heap_bytes", baselineHeap);
      m.put("heap_with_agents_bytes", heapWithAgents);
      m.put("heap_per_agent_bytes", heapPerAgent(n));
      return m;
    }
  }

  /** One replica SIGKILLed: its agents, each timed from the kill until caught up on another replica. */
  public record Failover(int agentsMoved, int caughtUp, long agentsWithSnapshot, Latencies catchUp) {
    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("agents_moved", agentsMoved);
      m.put("caught_up_elsewhere", caughtUp);
      m.put("agents_with_snapshot", agentsWithSnapshot);
      m.put("kill_to_caught_up", catchUp.toJson());
      return m;
    }
  }

  /** (a) N agents connect, announce, watch from scratch and are caught up. */
  public record Join(double seconds, double announceSeconds, double watchSeconds, int caughtUp, int announceFailures,
      long snapshots, long snapshotChunks, long refusals, long bytesPerAgent, double certSeconds) {
    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("all_caught_up_s", seconds);
      m.put("connect_and_announce_s", announceSeconds);
      m.put("watch_to_caught_up_s", watchSeconds);
      m.put("caught_up", caughtUp);
      m.put("announce_failures", announceFailures);
      m.put("snapshots", snapshots);
      m.put("snapshot_chunks", snapshotChunks);
      m.put("snapshot_refusals", refusals);
      m.put("bytes_per_agent", bytesPerAgent);
      m.put("cert_issue_s", certSeconds);
      return m;
    }
  }

  /** (b) M changes, each timed from its write to its arrival at every watcher. */
  public record Fanout(int changes, int incomplete, Latencies allWatchers, Latencies perDelivery,
      Latencies hubLag, double bytesPerChangePerAgent, double changeBytesPerChangePerAgent,
      double cpuMicrosPerDelivery, double seconds) {
    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("changes", changes);
      m.put("incomplete", incomplete);
      m.put("to_all_watchers", allWatchers.toJson());
      m.put("per_delivery", perDelivery.toJson());
      if (hubLag.count() > 0) {
        // The hub's own meshwire.hub.fanout.lag: append to the write of one watcher's copy
        // (histogram bucket bounds), i.e. without the announce round trip, network and client.
        m.put("hub_append_to_write", hubLag.toJson());
      }
      m.put("bytes_per_change_per_agent", bytesPerChangePerAgent);
      m.put("change_bytes_per_change_per_agent", changeBytesPerChangePerAgent);
      m.put("cpu_us_per_delivery", cpuMicrosPerDelivery);
      m.put("phase_s", seconds);
      return m;
    }
  }

  /** (c) The hub is SIGKILLed and restarted; agents resume from their last revision. */
  public record Storm(double totalSeconds, double fromReadySeconds, double restartSeconds, int caughtUp,
      long snapshots, long agentsWithSnapshot, long snapshotChunks, long refusals, long bytesPerAgent,
      Latencies catchUpFromReady, Map<String, Long> streamCloses, long tlsResumed) {
    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("kill_to_all_caught_up_s", totalSeconds);
      m.put("ready_to_all_caught_up_s", fromReadySeconds);
      m.put("restart_to_ready_s", restartSeconds);
      m.put("caught_up", caughtUp);
      m.put("snapshots", snapshots);
      m.put("agents_with_snapshot", agentsWithSnapshot);
      m.put("snapshot_chunks", snapshotChunks);
      m.put("refusals", refusals);
      m.put("bytes_per_agent", bytesPerAgent);
      m.put("catch_up_from_ready", catchUpFromReady.toJson());
      m.put("stream_closes", new LinkedHashMap<>(streamCloses));
      m.put("tls_resumed", tlsResumed);
      return m;
    }
  }

  /** (d) Hub memory: heap after a full GC and RSS, per connected idle agent. */
  public record Memory(long baselineHeap, long baselineRss, long heapWithAgents, long rssWithAgents,
      long heapAfterRestartWithAgents, long heapAfterDisconnect) {
    public double heapPerAgent(int n) {
      return (heapWithAgents - baselineHeap) / (double) n;
    }

    public double rssPerAgent(int n) {
      return (rssWithAgents - baselineRss) / (double) n;
    }

    public double heapPerConnection(int n) {
      return heapAfterDisconnect <= 0 ? Double.NaN : (heapAfterRestartWithAgents - heapAfterDisconnect) / (double) n;
    }

    Map<String, Object> toJson(int n) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("baseline_heap_bytes", baselineHeap);
      m.put("baseline_rss_bytes", baselineRss);
      m.put("heap_with_agents_bytes", heapWithAgents);
      m.put("rss_with_agents_bytes", rssWithAgents);
      m.put("heap_per_agent_bytes", heapPerAgent(n));
      m.put("rss_per_agent_bytes", rssPerAgent(n));
      m.put("heap_after_restart_with_agents_bytes", heapAfterRestartWithAgents);
      m.put("heap_after_disconnect_bytes", heapAfterDisconnect);
      m.put("heap_per_connection_bytes", heapPerConnection(n));
      return m;
    }
  }

  /** The same fan-out against etcd: N jetcd watchers on a prefix. */
  public record Etcd(int watchers, int connections, int created, double watchSetupSeconds, Fanout fanout,
      long baselineRss, long rssWithWatchers, double goHeapInuseBaseline, double goHeapInuseWithWatchers,
      String version) {
    public double rssPerWatcher() {
      return (rssWithWatchers - baselineRss) / (double) watchers;
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("version", version);
      m.put("watchers", watchers);
      m.put("connections", connections);
      m.put("created", created);
      m.put("watch_setup_s", watchSetupSeconds);
      m.put("fanout", fanout.toJson());
      m.put("baseline_rss_bytes", baselineRss);
      m.put("rss_with_watchers_bytes", rssWithWatchers);
      m.put("rss_per_watcher_bytes", rssPerWatcher());
      m.put("go_heap_inuse_baseline_bytes", goHeapInuseBaseline);
      m.put("go_heap_inuse_with_watchers_bytes", goHeapInuseWithWatchers);
      m.put("go_heap_inuse_per_watcher_bytes", (goHeapInuseWithWatchers - goHeapInuseBaseline) / watchers);
      return m;
    }
  }

  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("agents", agents);
    m.put("changes", changes);
    m.put("join", join.toJson());
    m.put("fanout", hubFanout.toJson());
    m.put("storm", storm.toJson());
    m.put("memory", hubMemory.toJson(agents));
    if (etcd != null) {
      m.put("etcd", etcd.toJson());
      Map<String, Object> ratios = new LinkedHashMap<>();
      ratios.put("fanout_p50", hubFanout.allWatchers().p50Ms() / etcd.fanout().allWatchers().p50Ms());
      ratios.put("fanout_p99", hubFanout.allWatchers().p99Ms() / etcd.fanout().allWatchers().p99Ms());
      ratios.put("rss_per_watcher", hubMemory.rssPerAgent(agents) / etcd.rssPerWatcher());
      ratios.put("cpu_per_delivery", hubFanout.cpuMicrosPerDelivery() / etcd.fanout().cpuMicrosPerDelivery());
      m.put("hub_over_etcd", ratios);
    }
    if (replicated != null) {
      m.put("replicated", replicated.toJson(agents));
      Map<String, Object> ratios = new LinkedHashMap<>();
      ratios.put("fanout_p50", replicated.fanout().allWatchers().p50Ms() / hubFanout.allWatchers().p50Ms());
      ratios.put("fanout_p99", replicated.fanout().allWatchers().p99Ms() / hubFanout.allWatchers().p99Ms());
      ratios.put("heap_per_agent", replicated.heapPerAgent(agents) / hubMemory.heapPerAgent(agents));
      m.put("replicated_over_file", ratios);
    }
    return m;
  }
}
