package io.meshwire.agent.reconcile;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ObserveOnly} keeps the agent's hands off a data plane it did not prove it owns the state of.
 * An agent that starts without usable state (no file, a corrupt one, one of another cluster) must not
 * "repair" the WireGuard peers, routes and NAT rules a previous agent left serving: its empty state
 * would remove them all and cut the cluster off for as long as the hub is away. So until the state is
 * authoritative again (the hub's Watch caught up), the {@link Reconciler} leaves a serving interface
 * exactly as it is; an interface that does not exist has nothing to protect and is built as usual.
 *
 * <p>Thread-safe: the reconcile thread reads it, status readers too.
 */
public final class ObserveOnly {

  private static final Logger log = LoggerFactory.getLogger(ObserveOnly.class);

  private final AtomicReference<String> reason;
  private final BooleanSupplier authoritative;

  private ObserveOnly(String reason, BooleanSupplier authoritative) {
    this.reason = new AtomicReference<>(reason);
    this.authoritative = Objects.requireNonNull(authoritative, "authoritative");
  }

  /** Never observe-only: the agent's state is authoritative from the start (a good state file). */
  public static ObserveOnly off() {
    return new ObserveOnly(null, () -> true);
  }

  /**
   * Observe-only for {@code reason} until {@code authoritative} says the state is the hub's word
   * again (e.g. the Watch stream caught up).
   */
  public static ObserveOnly until(String reason, BooleanSupplier authoritative) {
    return new ObserveOnly(Objects.requireNonNull(reason, "reason"), authoritative);
  }

  /**
   * Why the data plane must be left as it is, or empty when the agent may change it. Ends (for
   * good, logged once) as soon as the state is authoritative.
   */
  public Optional<String> reason() {
    String current = reason.get();
    if (current != null && authoritative.getAsBoolean() && reason.compareAndSet(current, null)) {
      log.info("data plane managed again: state is authoritative (hub caught up) was=\"{}\"", current);
      return Optional.empty();
    }
    return Optional.ofNullable(reason.get());
  }
}
