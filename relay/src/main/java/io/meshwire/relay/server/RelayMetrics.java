package io.meshwire.relay.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code RelayMetrics}: what an operator graphs for a relay. Prometheus names:
 * {@code meshwire_relay_connections} (authenticated, open), {@code meshwire_relay_handshakes_total{result}},
 * {@code meshwire_relay_forwarded_bytes_total}, {@code meshwire_relay_forwarded_datagrams_total},
 * {@code meshwire_relay_dropped_datagrams_total{reason}} (no_route, self, congested),
 * {@code meshwire_relay_disconnects_total{reason}} (closed, revoked, oversized, garbage, error).
 * Thread-safe.
 */
final class RelayMetrics {

  final Counter forwardedBytes;
  final Counter forwardedDatagrams;
  private final MeterRegistry meters;
  private final Map<String, Counter> drops = new ConcurrentHashMap<>();
  private final Map<String, Counter> disconnects = new ConcurrentHashMap<>();
  private final Map<String, Counter> handshakes = new ConcurrentHashMap<>();

  RelayMetrics(MeterRegistry meters, Supplier<Number> connections) {
    this.meters = meters;
    Gauge.builder("meshwire.relay.connections", connections).description("Authenticated client connections open")
        .register(meters);
    forwardedBytes = Counter.builder("meshwire.relay.forwarded.bytes").baseUnit("bytes")
        .description("Datagram bytes forwarded (payload only)").register(meters);
    forwardedDatagrams = Counter.builder("meshwire.relay.forwarded.datagrams")
        .description("Datagrams forwarded").register(meters);
    for (String reason : new String[] {"no_route", "self", "congested"}) {
      dropped(reason);
    }
    for (String reason : new String[] {"closed", "revoked", "oversized", "garbage", "error"}) {
      disconnect(reason);
    }
  }

  Counter dropped(String reason) {
    return drops.computeIfAbsent(reason, r -> Counter.builder("meshwire.relay.dropped.datagrams").tag("reason", r)
        .description("Datagrams dropped, by reason").register(meters));
  }

  Counter disconnect(String reason) {
    return disconnects.computeIfAbsent(reason, r -> Counter.builder("meshwire.relay.disconnects").tag("reason", r)
        .description("Authenticated connections closed, by reason").register(meters));
  }

  Counter handshake(String result) {
    return handshakes.computeIfAbsent(result, r -> Counter.builder("meshwire.relay.handshakes").tag("result", r)
        .description("TLS handshakes, by result").register(meters));
  }
}
