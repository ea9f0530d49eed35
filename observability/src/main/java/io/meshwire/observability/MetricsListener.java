package io.meshwire.observability;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshwire.netaddr.HostPort;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code MetricsListener} is a process's local plain-HTTP listener, meant for a local scraper and
 * probes: {@code /metrics} in the Prometheus text format from a {@link PrometheusMeterRegistry},
 * plus whatever extra routes the caller names (the agent's {@code /status} and {@code /ready}).
 * Paths are matched as the JDK's {@link HttpServer} contexts match them, any method is answered,
 * and a path no route names gets the JDK's 404.
 *
 * <p>Thread-safety: the registry and the routes are called on the listener's own dispatcher thread,
 * one request at a time; they must be safe to call from a thread other than their owner's.
 * {@link #port()} and {@link #close()} may be called from any thread.
 */
public final class MetricsListener implements AutoCloseable {

  /** What {@code /metrics} answers with: the Prometheus text exposition format 0.0.4. */
  public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /** One answer of an extra route; the body is sent as UTF-8. */
  public record Response(int status, String contentType, String body) {}

  private final HttpServer http;

  private MetricsListener(HttpServer http) {
    this.http = http;
  }

  /** Starts a listener that serves {@code /metrics} only. */
  public static MetricsListener start(HostPort listen, MeterRegistry meters) {
    return start(listen, meters, Map.of());
  }

  /**
   * Starts a listener on {@code listen} (port 0: any free port, see {@link #port()}) serving
   * {@code /metrics} and {@code routes}, each path to the supplier of its response per request.
   *
   * @throws IllegalArgumentException when {@code meters} cannot be scraped (not Prometheus), or a
   *     route's path is {@code /metrics} or does not start with {@code /}
   * @throws UncheckedIOException naming {@code metrics-listen} and the address when it cannot bind
   */
  public static MetricsListener start(HostPort listen, MeterRegistry meters, Map<String, Supplier<Response>> routes) {
    if (!(meters instanceof PrometheusMeterRegistry prometheus)) {
      throw new IllegalArgumentException("metrics-listen: needs a Prometheus registry, got "
          + meters.getClass().getSimpleName());
    }
    // Checked before binding: HttpServer.createContext would throw with the socket already open.
    for (String path : routes.keySet()) {
      if (!path.startsWith("/") || path.equals("/metrics")) {
        throw new IllegalArgumentException("metrics-listen: route \"" + path + "\": a path starting with /, not /metrics");
      }
    }
    try {
      HttpServer http = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
      http.createContext("/metrics", ex -> respond(ex, new Response(200, PROMETHEUS_TEXT, prometheus.scrape())));
      routes.forEach((path, route) -> http.createContext(path, ex -> respond(ex, route.get())));
      http.start();
      return new MetricsListener(http);
    } catch (IOException e) {
      throw new UncheckedIOException("metrics-listen " + listen + ": " + e.getMessage(), e);
    }
  }

  private static void respond(HttpExchange ex, Response response) throws IOException {
    byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", response.contentType());
    ex.sendResponseHeaders(response.status(), bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** The port it listens on: the one asked for, or the one chosen for port 0. */
  public int port() {
    return http.getAddress().getPort();
  }

  /** Stops listening at once; a request being answered is cut off. */
  @Override
  public void close() {
    http.stop(0);
  }
}
