package io.meshwire.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import io.meshwire.observability.MetricsListener.Response;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link MetricsListener} over real HTTP on a loopback port. */
class MetricsListenerTest {

  private static final HostPort ANY_PORT = new HostPort("127.0.0.1", 0);

  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HttpClient client = HttpClient.newHttpClient();
  private MetricsListener listener;

  @AfterEach
  void stop() {
    if (listener != null) {
      listener.close();
    }
    client.close();
  }

  @Test
  void servesMetricsInThePrometheusTextFormat() throws Exception {
    meters.counter("meshwire.test.requests").increment(3);
    listener = MetricsListener.start(ANY_PORT, meters);

    HttpResponse<String> r = get("/metrics");

    assertEquals(200, r.statusCode());
    assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
    assertTrue(r.body().contains("meshwire_test_requests_total 3.0"), r.body());
  }

  @Test
  void portZeroPicksAFreePort() {
    listener = MetricsListener.start(ANY_PORT, meters);

    assertNotEquals(0, listener.port());
  }

  @Test
  void extraRoutesAnswerWithTheirStatusTypeAndBodyPerRequest() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Map<String, Supplier<Response>> routes = new LinkedHashMap<>();
    routes.put("/status", () -> new Response(200, "application/json", "{\"n\":" + calls.incrementAndGet() + "}\n"));
    routes.put("/ready", () -> new Response(503, "text/plain", "not yet: é\n"));
    listener = MetricsListener.start(ANY_PORT, meters, routes);

    HttpResponse<String> status = get("/status");
    HttpResponse<String> again = get("/status");
    HttpResponse<String> ready = get("/ready");

    assertEquals(200, status.statusCode());
    assertEquals("application/json", status.headers().firstValue("Content-Type").orElseThrow());
    assertEquals("{\"n\":1}\n", status.body());
    assertEquals("{\"n\":2}\n", again.body());
    assertEquals(503, ready.statusCode());
    assertEquals("text/plain", ready.headers().firstValue("Content-Type").orElseThrow());
    assertEquals("not yet: é\n", ready.body());
    assertEquals(200, get("/metrics").statusCode(), "/metrics is served next to the routes");
  }

  @Test
  void aPathNoRouteNamesIsNotFound() throws Exception {
    listener = MetricsListener.start(ANY_PORT, meters);

    assertEquals(404, get("/status").statusCode());
  }

  @Test
  void aRegistryThatCannotBeScrapedIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MetricsListener.start(ANY_PORT, new SimpleMeterRegistry()));

    assertEquals("metrics-listen: needs a Prometheus registry, got SimpleMeterRegistry", e.getMessage());
  }

  @Test
  void aRouteCannotTakeOverMetrics() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetricsListener.start(ANY_PORT,
        meters, Map.of("/metrics", () -> new Response(200, "text/plain", ""))));

    assertEquals("metrics-listen: route \"/metrics\": a path starting with /, not /metrics", e.getMessage());
  }

  @Test
  void aPortInUseFailsNamingTheSettingAndTheAddress() {
    listener = MetricsListener.start(ANY_PORT, meters);
    HostPort taken = new HostPort("127.0.0.1", listener.port());

    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> MetricsListener.start(taken, meters));

    assertTrue(e.getMessage().startsWith("metrics-listen 127.0.0.1:" + taken.port() + ": "), e.getMessage());
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    URI uri = URI.create("http://127.0.0.1:" + listener.port() + path);
    return client.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
