package io.meshwire.hub.server;

import com.sun.net.httpserver.HttpServer;
import io.meshwire.netaddr.HostPort;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code MetricsEndpoint} serves {@code GET /metrics} in the Prometheus text format from a
 * {@link PrometheusMeterRegistry}, on a plain HTTP listener meant for a local scraper.
 */
public final class MetricsEndpoint implements AutoCloseable {

  private final HttpServer http;

  private MetricsEndpoint(HttpServer http) {
    this.http = http;
  }

  /**
   * @throws IllegalArgumentException when {@code meters} cannot be scraped (not Prometheus)
   */
  public static MetricsEndpoint start(HostPort listen, MeterRegistry meters) {
    if (!(meters instanceof PrometheusMeterRegistry prometheus)) {
      throw new IllegalArgumentException("metrics-listen: needs a Prometheus registry, got "
          + meters.getClass().getSimpleName());
    }
    try {
      HttpServer http = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
      http.createContext("/metrics", exchange -> {
        byte[] body = prometheus.scrape().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      });
      http.start();
      return new MetricsEndpoint(http);
    } catch (IOException e) {
      throw new UncheckedIOException("metrics-listen " + listen + ": " + e.getMessage(), e);
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
