package io.meshwire.agent.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwire.netaddr.HostPort;
import io.meshwire.observability.MetricsListener;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The agent's routes over real HTTP: what probes and {@code meshwire agent-status} see. */
class AgentHttpTest {

  @Test
  void statusIsJsonAndReadyTurns200OnceTheStateIsApplied() throws Exception {
    AtomicBoolean applied = new AtomicBoolean();
    try (MetricsListener http = AgentHttp.start(new HostPort("127.0.0.1", 0),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> "{\"cluster\":\"east\"}\n", applied::get);
        HttpClient client = HttpClient.newHttpClient()) {

      HttpResponse<String> status = get(client, http, "/status");
      HttpResponse<String> notReady = get(client, http, "/ready");
      applied.set(true);
      HttpResponse<String> ready = get(client, http, "/ready");

      assertEquals(200, status.statusCode());
      assertEquals("application/json", status.headers().firstValue("Content-Type").orElseThrow());
      assertEquals("{\"cluster\":\"east\"}\n", status.body());
      assertEquals(503, notReady.statusCode());
      assertEquals("text/plain", notReady.headers().firstValue("Content-Type").orElseThrow());
      assertEquals("state not applied yet\n", notReady.body());
      assertEquals(200, ready.statusCode());
      assertEquals("ready\n", ready.body());
      assertEquals(200, get(client, http, "/metrics").statusCode());
    }
  }

  private static HttpResponse<String> get(HttpClient client, MetricsListener http, String path)
      throws IOException, InterruptedException {
    URI uri = URI.create("http://127.0.0.1:" + http.port() + path);
    return client.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
