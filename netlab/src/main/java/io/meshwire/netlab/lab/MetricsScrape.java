package io.meshwire.netlab.lab;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * {@code MetricsScrape} reads one sample from a Prometheus text endpoint on this machine's
 * loopback ({@code http://127.0.0.1:PORT/metrics}): etcd members, hub processes. Thread-safe.
 */
public final class MetricsScrape {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private MetricsScrape() {}

  /** The first sample of {@code name} (any labels), or NaN when absent or the endpoint does not answer. */
  public static double firstSample(int port, String name, Duration timeout) {
    try {
      String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
          .timeout(timeout).build(), HttpResponse.BodyHandlers.ofString()).body();
      for (String line : body.split("\n")) {
        if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
          return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return Double.NaN;
    } catch (IOException e) {
      return Double.NaN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Double.NaN;
    }
  }
}
