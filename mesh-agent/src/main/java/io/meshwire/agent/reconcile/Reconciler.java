package io.meshwire.agent.reconcile;

import io.meshwire.agent.ipam.ViewDecisions;
import io.meshwire.agent.nat.Nat;
import io.meshwire.agent.nat.NatChange;
import io.meshwire.agent.nat.NatPlanner;
import io.meshwire.agent.nat.TunnelSourceFilter;
import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.wireguard.Change;
import io.meshwire.agent.wireguard.DataPlane;
import io.meshwire.agent.wireguard.WgPeer;
import io.meshwire.agent.wireguard.WireGuard;
import io.meshwire.agent.wireguard.WireGuardPlan;
import io.meshwire.netaddr.Cidr;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Reconciler} makes the data plane match the state, level-triggered: each pass reads the
 * latest state, plans, reads back what WireGuard and the routing table have, and applies only the
 * difference. Passes run on one executor thread: after a state change ({@link #trigger}) and
 * periodically, which repairs drift. A failed pass is logged and counted; the next one retries.
 *
 * <p>With {@link Remapping}, a pass first lets the IPAM decide the views (persisting any change),
 * leaves exhausted peers out of routing, and after WireGuard brings the NAT tables to the NETMAP
 * rules of {@link NatPlanner}.
 *
 * <p>With a {@link TunnelSourceFilter} ({@link #filterSources}), a pass first narrows (or widens) the
 * sources the tunnel admits to the planned AllowedIPs, then changes WireGuard and routes.
 *
 * <p>While {@link ObserveOnly} holds (the agent has no authoritative state), a pass leaves a serving
 * interface, its peers, routes and NAT rules exactly as they are, and says so once.
 */
public final class Reconciler implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

  /**
   * The interface settings that do not come from the state.
   *
   * @param persistentKeepalive the keepalive every peer gets
   */
  public record Interface(String name, int listenPort, Optional<Cidr> address, Duration persistentKeepalive) {

    /** With WireGuard peers at {@link WgPeer#DEFAULT_KEEPALIVE}. */
    public Interface(String name, int listenPort, Optional<Cidr> address) {
      this(name, listenPort, address, WgPeer.DEFAULT_KEEPALIVE);
    }
  }

  /**
   * Overlap remapping: the IPAM that decides the views and the NAT driver.
   *
   * @param ownPodCidrs this cluster's pod CIDRs, the ones NAT translates
   */
  public record Remapping(ViewDecisions decisions, Nat nat, List<Cidr> ownPodCidrs) {
    public Remapping {
      ownPodCidrs = List.copyOf(ownPodCidrs);
    }
  }

  private final Interface iface;
  private final EndpointResolver resolver;
  private final WireGuard wireGuard;
  private final DataPlane dataPlane;
  private final Supplier<AgentState> state;
  private final Optional<Remapping> remapping;
  private final ObserveOnly observeOnly;
  private final AtomicReference<String> observingSaid = new AtomicReference<>();
  private final ScheduledExecutorService executor;
  private final AtomicBoolean queued = new AtomicBoolean();
  private final AtomicReference<String> interfaceKey = new AtomicReference<>();
  private final Counter errors;
  private final Counter changesApplied;
  private final Timer passes;
  private volatile boolean applied;
  /** Peer cluster ID to the endpoint WireGuard uses instead of its gateway (a relayed link's bridge). */
  private volatile Supplier<Map<String, InetSocketAddress>> endpointOverrides = Map::of;
  private volatile Optional<TunnelSourceFilter> sourceFilter = Optional.empty();

  public Reconciler(Interface iface, WireGuard wireGuard, DataPlane dataPlane, Supplier<AgentState> state,
      ScheduledExecutorService executor, Duration period, MeterRegistry meters) {
    this(iface, wireGuard, dataPlane, Optional.empty(), state, executor, period, meters, new SystemResolver(meters));
  }

  /** A reconciler that also decides views and keeps the NAT tables, when {@code remapping} is present. */
  public Reconciler(Interface iface, WireGuard wireGuard, DataPlane dataPlane, Optional<Remapping> remapping,
      Supplier<AgentState> state, ScheduledExecutorService executor, Duration period, MeterRegistry meters,
      EndpointResolver resolver) {
    this(iface, wireGuard, dataPlane, remapping, ObserveOnly.off(), state, executor, period, meters, resolver);
  }

  /** Like the others, leaving a serving data plane alone while {@code observeOnly} holds. */
  public Reconciler(Interface iface, WireGuard wireGuard, DataPlane dataPlane, Optional<Remapping> remapping,
      ObserveOnly observeOnly, Supplier<AgentState> state, ScheduledExecutorService executor, Duration period,
      MeterRegistry meters, EndpointResolver resolver) {
    this.observeOnly = java.util.Objects.requireNonNull(observeOnly, "observeOnly");
    this.resolver = resolver;
    this.iface = iface;
    this.wireGuard = wireGuard;
    this.dataPlane = dataPlane;
    this.remapping = remapping;
    this.state = state;
    this.executor = executor;
    this.errors = Counter.builder("meshwire.agent.reconcile.errors").register(meters);
    this.changesApplied = Counter.builder("meshwire.agent.reconcile.changes").register(meters);
    this.passes = Timer.builder("meshwire.agent.reconcile.duration").register(meters);
    executor.scheduleWithFixedDelay(this::trigger, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Makes every later pass override the WireGuard endpoints {@code overrides} lists (read at each pass):
   * the path selection's relayed links point at their local relay bridge sockets. Without it, every
   * peer's endpoint is its gateway.
   */
  public void overrideEndpoints(Supplier<Map<String, InetSocketAddress>> overrides) {
    this.endpointOverrides = java.util.Objects.requireNonNull(overrides, "overrides");
  }

  /** Runs one pass now on the calling thread (start-up: apply the persisted state before anything else). */
  public List<Change> reconcileNow() {
    return passes.record(this::pass);
  }

  /** Asks for a pass soon; passes asked for while one is queued collapse into it. */
  public void trigger() {
    if (queued.compareAndSet(false, true)) {
      executor.execute(() -> {
        queued.set(false);
        try {
          passes.record(this::pass);
        } catch (RuntimeException e) {
          errors.increment();
          log.warn("reconcile failed if={} error=\"{}\"", iface.name(), e.getMessage());
        }
      });
    }
  }

  /** True once a pass has completed without error. */
  public boolean applied() {
    return applied;
  }

  /** Why the data plane is left as it is (observe-only), or empty while the agent manages it. */
  public Optional<String> observeOnly() {
    return observeOnly.reason();
  }

  private synchronized List<Change> pass() {
    Optional<String> observing = observeOnly.reason();
    if (observing.isPresent() && serving()) {
      if (!observing.get().equals(observingSaid.getAndSet(observing.get()))) {
        log.warn("data plane left as it is (observe-only) if={} reason=\"{}\" until=\"the hub's state arrives\"",
            iface.name(), observing.get());
      }
      applied = true; // the data plane serves as the previous agent left it
      return List.of();
    }
    AgentState s = state.get();
    Set<String> excluded = Set.of();
    if (remapping.isPresent()) {
      ViewDecisions.Decided decided = remapping.get().decisions().decide();
      s = decided.state();
      excluded = decided.allocation().exhausted();
    }
    // ensureInterface is idempotent but runs several tools; only redo it when the key changed
    // or the interface is gone (a failed show below triggers it next time).
    if (!s.wireguardPrivateKey().equals(interfaceKey.get())) {
      wireGuard.ensureInterface(iface.name(), iface.listenPort(), s.wireguardPrivateKey(), iface.address());
      interfaceKey.set(s.wireguardPrivateKey());
    }
    WireGuardPlan plan = Planner.plan(iface.name(), s, excluded, iface.persistentKeepalive(),
        endpointOverrides.get(), resolver);
    // The source filter first: a peer that left is cut off before WireGuard forgets its key, and a
    // new one is admitted before its tunnel carries anything.
    sourceFilter.ifPresent(f -> filterSources(f, plan));
    List<Change> changes;
    try {
      changes = dataPlane.apply(plan);
    } catch (RuntimeException e) {
      interfaceKey.set(null); // the interface may have been deleted under us: recreate next pass
      throw e;
    }
    changesApplied.increment(changes.size());
    if (remapping.isPresent()) {
      Remapping r = remapping.get();
      List<NatChange> nat = r.nat().sync(NatPlanner.plan(iface.name(), r.ownPodCidrs(), s, excluded));
      changesApplied.increment(nat.size());
    }
    applied = true;
    return changes;
  }

  /**
   * Brings the tunnel's source filter to the plan's AllowedIPs. A failure is logged and counted but
   * does not stop the pass: the tunnels matter more, and the next pass retries.
   */
  private void filterSources(TunnelSourceFilter filter, WireGuardPlan plan) {
    try {
      if (filter.sync(iface.name(), plan.peers().stream().flatMap(p -> p.allowedIps().stream()).toList())) {
        changesApplied.increment();
      }
    } catch (RuntimeException e) {
      errors.increment();
      log.warn("tunnel source filter failed if={} error=\"{}\"", iface.name(), e.getMessage());
    }
  }

  /**
   * Makes every later pass keep {@code filter} on the tunnel: only the current peers' AllowedIPs
   * (their pod CIDRs as this cluster sees them) may send in through it.
   */
  public void filterSources(TunnelSourceFilter filter) {
    this.sourceFilter = Optional.of(filter);
  }

  /** Whether the interface exists and answers: a data plane someone set up. */
  private boolean serving() {
    try {
      wireGuard.show(iface.name());
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
