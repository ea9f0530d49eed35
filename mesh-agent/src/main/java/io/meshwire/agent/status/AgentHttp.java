package io.meshwire.agent.status;

import com.sun.net.httpserver.HttpServer;
import io.meshwire.netaddr.HostPort;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * {@code AgentHttp} is the agent's local HTTP listener: {@code /metrics} (Prometheus text),
 * {@code /status} (JSON, what {@code meshwire agent-status} prints) and {@code /ready} (200 once
 * the persisted state is loaded and applied, for Kubernetes probes).
 */
public final class AgentHttp implements AutoCloseable {

  private final HttpServer http;

  private AgentHttp(HttpServer http) {
    this.http = http;
  }

  public static AgentHttp start(HostPort listen, PrometheusMeterRegistry meters, Supplier<String> statusJson,
      Supplier<Boolean> ready) {
    try {
      HttpServer http = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
      http.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", meters.scrape()));
      http.createContext("/status", ex -> respond(ex, 200, "application/json", statusJson.get()));
      http.createContext("/ready", ex -> {
        boolean ok = ready.get();
        respond(ex, ok ? 200 : 503, "text/plain", ok ? "ready\n" : "state not applied yet\n");
      });
      http.start();
      return new AgentHttp(http);
    } catch (IOException e) {
      throw new UncheckedIOException("metrics-listen " + listen + ": " + e.getMessage(), e);
    }
  }

  private static void respond(com.sun.net.httpserver.HttpExchange ex, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  public int port() {
    return http.getAddress().getPort();
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
