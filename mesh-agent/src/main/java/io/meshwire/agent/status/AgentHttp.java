package io.meshwire.agent.status;

import io.meshwire.netaddr.HostPort;
import io.meshwire.observability.MetricsListener;
import io.meshwire.observability.MetricsListener.Response;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code AgentHttp} is what the agent serves on its local HTTP listener ({@code metrics-listen}):
 * {@code /metrics} (Prometheus text), {@code /status} (JSON, what {@code meshwire agent-status}
 * prints) and {@code /ready} (200 once the persisted state is loaded and applied, else 503, for
 * Kubernetes probes). The listener itself is the shared {@link MetricsListener}.
 */
public final class AgentHttp {

  private AgentHttp() {}

  /** Starts the listener; {@code statusJson} and {@code ready} are asked on its thread, per request. */
  public static MetricsListener start(HostPort listen, PrometheusMeterRegistry meters, Supplier<String> statusJson,
      Supplier<Boolean> ready) {
    return MetricsListener.start(listen, meters, Map.of(
        "/status", () -> new Response(200, "application/json", statusJson.get()),
        "/ready", () -> ready.get()
            ? new Response(200, "text/plain", "ready\n")
            : new Response(503, "text/plain", "state not applied yet\n")));
  }
}
