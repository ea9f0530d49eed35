package io.meshwire.reflection.kube;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code ChunkedWatchBridge} sits between the official Kubernetes client and fabric8's mock API
 * server so that informers really watch it. The mock serves watches only over WebSocket (as
 * fabric8's own client asks for them), while client-java's informers issue plain HTTP
 * {@code GET ...?watch=true} and read a chunked stream of JSON watch events, one per line, as the
 * real API server sends them. The bridge forwards every other request unchanged; a watch request
 * it turns into a WebSocket to the same path on the mock and writes each text message it receives
 * as one line of a chunked response, until either side closes.
 *
 * <p>Tests only. Listens on 127.0.0.1; one thread per request (virtual threads).
 */
public final class ChunkedWatchBridge implements AutoCloseable {

  private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "transfer-encoding", "host",
      "upgrade", "keep-alive", "expect");

  private final URI target;
  private final HttpServer server;
  private final HttpClient http;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private volatile String hiddenPrefix;

  /** Starts a bridge to the mock at {@code target} (e.g. {@code http://127.0.0.1:40000}). */
  public ChunkedWatchBridge(URI target) throws IOException {
    this.target = target;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
        .executor(executor).build();
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Where clients should connect instead of the mock. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /**
   * Answers 404 (a {@code Status} as the API server sends for a resource it does not serve) to
   * every request whose path starts with {@code pathPrefix}, e.g. an API group whose CRDs are
   * not installed; {@code null} serves everything again.
   */
  public void hide(String pathPrefix) {
    hiddenPrefix = pathPrefix;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String hidden = hiddenPrefix;
      if (hidden != null && exchange.getRequestURI().getPath().startsWith(hidden)) {
        byte[] body = ("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
            + "\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\","
            + "\"details\":{},\"code\":404}").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(404, body.length);
        try (OutputStream os = exchange.getResponseBody()) {
          os.write(body);
        }
        return;
      }
      String query = exchange.getRequestURI().getRawQuery();
      boolean watch = "GET".equals(exchange.getRequestMethod()) && query != null
          && (query.contains("watch=true") || query.contains("watch=1"));
      if (watch) {
        streamWatch(exchange);
      } else {
        forward(exchange);
      }
    }
  }

  private void forward(HttpExchange exchange) throws IOException {
    URI uri = target.resolve(exchange.getRequestURI().toString());
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readAllBytes();
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
        .method(exchange.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    exchange.getRequestHeaders().forEach((name, values) -> {
      if (!HOP_BY_HOP.contains(name.toLowerCase())) {
        values.forEach(v -> request.header(name, v));
      }
    });
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted forwarding " + uri, e);
    }
    response.headers().map().forEach((name, values) -> {
      if (!HOP_BY_HOP.contains(name.toLowerCase()) && !name.startsWith(":")) {
        exchange.getResponseHeaders().put(name, List.copyOf(values));
      }
    });
    byte[] out = response.body();
    exchange.sendResponseHeaders(response.statusCode(), out.length == 0 ? -1 : out.length);
    if (out.length > 0) {
      try (OutputStream os = exchange.getResponseBody()) {
        os.write(out);
      }
    }
  }

  private void streamWatch(HttpExchange exchange) throws IOException {
    URI ws = URI.create("ws://" + target.getHost() + ":" + target.getPort() + exchange.getRequestURI().toString());
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, 0); // chunked, like the API server's watch responses
    OutputStream out = exchange.getResponseBody();
    CountDownLatch closed = new CountDownLatch(1);
    WebSocket.Listener listener = new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          String line = partial.toString().strip() + "\n";
          partial.setLength(0);
          try {
            synchronized (out) {
              out.write(line.getBytes(StandardCharsets.UTF_8));
              out.flush();
            }
          } catch (IOException clientGone) {
            socket.abort();
            closed.countDown();
          }
        }
        socket.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
        closed.countDown();
        return null;
      }

      @Override
      public void onError(WebSocket socket, Throwable error) {
        closed.countDown();
      }
    };
    CompletableFuture<WebSocket> socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(ws, listener);
    try {
      WebSocket open = socket.get(10, TimeUnit.SECONDS);
      // The watch lasts until the mock closes it, the client goes away, or the bridge stops.
      while (!closed.await(1, TimeUnit.SECONDS)) {
        if (server.getAddress() == null || executor.isShutdown()) {
          break;
        }
      }
      open.abort();
    } catch (Exception e) {
      // The client sees the stream end and re-lists/re-watches, as after any broken watch.
    } finally {
      try {
        out.close();
      } catch (IOException ignored) {
        // client already gone
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
