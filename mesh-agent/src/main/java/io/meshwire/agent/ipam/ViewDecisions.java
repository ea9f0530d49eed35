package io.meshwire.agent.ipam;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.View;
import io.meshwire.agent.sync.MeshSync;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ViewDecisions} keeps {@code AgentState.myViews} equal to what {@link Ipam} decides for
 * the current peers: the reconciler calls {@link #decide()} at the start of every pass, so
 * decisions follow joins, leaves and CIDR changes, and are made from the persisted state alone
 * (no hub needed). A change is persisted through {@link MeshSync#update} before it is used, so a
 * restart decides the same; then {@code onChanged} runs (the view publisher).
 *
 * <p>Reports: one INFO line per view decided or released, one WARN line when a peer becomes
 * exhausted (and INFO when it recovers), and the gauge {@code meshwire.agent.ipam.exhausted}
 * (number of peers without a view).
 *
 * <p>Thread-safety: {@link #decide()} is synchronized (the reconciler calls it from its thread);
 * {@link #last()} may be read from any thread.
 */
public final class ViewDecisions {

  private static final Logger log = LoggerFactory.getLogger(ViewDecisions.class);

  /** The state after deciding, and the decisions. */
  public record Decided(AgentState state, Allocation allocation) {}

  private final String self;
  private final IpamSettings settings;
  private final MeshSync sync;
  private final InstantSource clock;
  private final Runnable onChanged;
  private volatile Allocation last = Allocation.empty();
  // @GuardedBy("this")
  private final Set<String> reportedExhausted = new HashSet<>();

  /**
   * @param onChanged told after a changed decision is persisted; must only enqueue work
   */
  public ViewDecisions(String self, IpamSettings settings, MeshSync sync, InstantSource clock, MeterRegistry meters,
      Runnable onChanged) {
    this.self = Objects.requireNonNull(self, "self");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.sync = Objects.requireNonNull(sync, "sync");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.onChanged = Objects.requireNonNull(onChanged, "onChanged");
    Gauge.builder("meshwire.agent.ipam.exhausted", this, d -> d.last.exhausted().size())
        .description("Peers left out of the data plane because no remap pool had room").register(meters);
  }

  /** Decides the views of the current peers, persisting them if they changed. */
  public synchronized Decided decide() {
    AgentState s = sync.state();
    Allocation a = Ipam.allocate(settings, self, s.peers(), s.myViews(), clock.millis());
    if (!a.views().equals(s.myViews())) {
      Allocation[] decided = new Allocation[1];
      Map<String, View> before = s.myViews();
      // Decide again on the state under MeshSync's lock, so a hub event in between is not lost.
      s = sync.update(st -> {
        decided[0] = Ipam.allocate(settings, self, st.peers(), st.myViews(), clock.millis());
        return st.withMyViews(decided[0].views());
      });
      a = decided[0];
      logChanges(before, a.views());
      onChanged.run();
    }
    reportExhaustion(a);
    last = a;
    return new Decided(s, a);
  }

  /** The latest decisions (empty before the first {@link #decide()}). */
  public Allocation last() {
    return last;
  }

  /** The settings decisions are made with. */
  public IpamSettings settings() {
    return settings;
  }

  private static void logChanges(Map<String, View> before, Map<String, View> after) {
    Set<String> subjects = new TreeSet<>(before.keySet());
    subjects.addAll(after.keySet());
    for (String peer : subjects) {
      View old = before.get(peer);
      View now = after.get(peer);
      if (now == null) {
        log.info("view released peer={}", peer);
      } else if (!now.equals(old)) {
        log.info("view decided peer={} mappings=\"{}\" generation={}", peer, now.mappings().stream()
            .map(m -> m.original() + "->" + m.seenAs()).collect(Collectors.joining(",")), now.generation());
      }
    }
  }

  private void reportExhaustion(Allocation a) {
    a.decisions().forEach((peer, d) -> {
      if (d instanceof PeerDecision.Exhausted(String reason) && reportedExhausted.add(peer)) {
        log.warn("ipam exhausted peer={} reason=\"{}\" action=\"peer left out of the data plane; add or widen "
            + "remap-pools\"", peer, reason);
      }
    });
    Set<String> recovered = new TreeSet<>(reportedExhausted);
    recovered.removeAll(a.exhausted());
    for (String peer : recovered) {
      reportedExhausted.remove(peer);
      if (a.decisions().containsKey(peer)) {
        log.info("ipam recovered peer={} condition={}", peer, a.decisions().get(peer).condition());
      }
    }
  }
}
