package io.meshwire.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ConsoleServer} is {@code meshwire console}: a web server on a loopback address that serves
 * the console page (assets from the jar) and the mesh as the {@link HubFeed} sees it, once
 * ({@code GET /api/state}) or live as server-sent events ({@code GET /api/events}, one {@code
 * state} event per change, a comment every 15 s so proxies and the browser know it is alive). It
 * holds the admin credential; the browser never sees it. Every request passes the {@link
 * RequestGuard} first; only {@code GET} is answered; no CORS headers are ever sent.
 *
 * <p>Thread-safety: requests run on virtual threads; each event stream waits on its own
 * {@link Subscriber}, which the feed's thread fills (only the latest state matters, so a slow
 * browser gets the newest one, never a queue).
 */
public final class ConsoleServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);
  /** Open pages (event streams) at once; more get 503. */
  static final int MAX_STREAMS = 32;
  static final Duration KEEPALIVE = Duration.ofSeconds(15);
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
      + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  /** Page assets: path -> (resource, content type). */
  private static final Map<String, String[]> ASSETS = Map.of(
      "/", new String[] {"index.html", "text/html; charset=utf-8"},
      "/console.js", new String[] {"console.js", "text/javascript; charset=utf-8"},
      "/console.css", new String[] {"console.css", "text/css; charset=utf-8"});

  private final HttpServer http;
  private final ExecutorService requests;
  private final HubFeed feed;
  private final RequestGuard guard;
  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  private final String url;
  private volatile boolean closing;

  private ConsoleServer(ConsoleConfig config, ManagedChannel hub, InstantSource clock) {
    InetSocketAddress bind = new InetSocketAddress(config.bindHost(), config.listen().port());
    try {
      http = HttpServer.create(bind, 64);
    } catch (BindException e) {
      throw new IllegalStateException("--listen " + config.listen() + ": address already in use (another console or"
          + " program has this port; pick another with --listen " + config.bindHost() + ":PORT)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("--listen " + config.listen() + ": " + e.getMessage(), e);
    }
    int port = http.getAddress().getPort();
    guard = new RequestGuard(config.bindHost(), port);
    String host = config.bindHost().contains(":") ? "[" + config.bindHost() + "]" : config.bindHost();
    url = "http://" + host + ":" + port + "/";
    requests = Executors.newVirtualThreadPerTaskExecutor();
    http.setExecutor(requests);
    http.createContext("/", this::handle);
    feed = new HubFeed(hub, config.hub(), config.pollInterval(), clock, this::broadcast);
  }

  /**
   * Binds the listener and starts following the hub over {@code hub} (a channel with the admin
   * credential; closed by the caller after {@link #close()}).
   *
   * @throws IllegalStateException when the port is in use, with a message that says so
   */
  public static ConsoleServer start(ConsoleConfig config, ManagedChannel hub, InstantSource clock) {
    ConsoleServer server = new ConsoleServer(config, hub, clock);
    server.http.start();
    server.feed.start();
    log.info("event=console_started url={} hub={}", server.url, config.hub());
    return server;
  }

  /** The page's address, e.g. {@code http://127.0.0.1:8080/}. */
  public String url() {
    return url;
  }

  /** The port the page is served on. */
  public int port() {
    return http.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      var headers = exchange.getRequestHeaders();
      Optional<String> refused = guard.refusal(headers.getFirst("Host"), headers.getFirst("Origin"),
          headers.getFirst("Sec-Fetch-Site"));
      if (refused.isPresent()) {
        log.warn("event=console_request_refused path={} reason=\"{}\"", pathForLog(exchange), refused.get());
        text(exchange, 403, "refused: " + refused.get() + "\n");
        return;
      }
      if (!exchange.getRequestMethod().equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET");
        text(exchange, 405, "only GET is served here\n");
        return;
      }
      String path = exchange.getRequestURI().getPath();
      switch (path) {
        case "/api/state" -> send(exchange, 200, "application/json; charset=utf-8",
            feed.latest().getBytes(StandardCharsets.UTF_8));
        case "/api/events" -> stream(exchange);
        default -> {
          String[] asset = ASSETS.get(path);
          if (asset == null) {
            text(exchange, 404, "not found\n");
          } else {
            send(exchange, 200, asset[1], resource(asset[0]));
          }
        }
      }
    } catch (IOException e) {
      log.debug("event=console_response_failed error=\"{}\"", e.toString()); // the browser went away
    }
  }

  /** One server-sent event stream: the current state at once, then every change, until the page goes. */
  private void stream(HttpExchange exchange) throws IOException {
    if (subscribers.size() >= MAX_STREAMS) {
      text(exchange, 503, "too many open console pages (" + MAX_STREAMS + ")\n");
      return;
    }
    Subscriber s = new Subscriber();
    subscribers.add(s);
    try {
      s.offer(feed.latest());
      headers(exchange, "text/event-stream; charset=utf-8");
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      while (!closing) {
        String next = s.take(KEEPALIVE);
        String frame = next == null ? ": keepalive\n\n" : "event: state\ndata: " + next + "\n\n";
        out.write(frame.getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      subscribers.remove(s);
    }
  }

  private void broadcast(String state) {
    subscribers.forEach(s -> s.offer(state));
  }

  private static void text(HttpExchange exchange, int code, String body) throws IOException {
    send(exchange, code, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange exchange, int code, String type, byte[] body) throws IOException {
    headers(exchange, type);
    exchange.sendResponseHeaders(code, body.length);
    exchange.getResponseBody().write(body);
  }

  private static void headers(HttpExchange exchange, String type) {
    var h = exchange.getResponseHeaders();
    h.set("Content-Type", type);
    h.set("Cache-Control", "no-store");
    h.set("X-Content-Type-Options", "nosniff");
    h.set("Referrer-Policy", "no-referrer");
    h.set("Cross-Origin-Resource-Policy", "same-origin");
    h.set("Content-Security-Policy", CSP);
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = ConsoleServer.class.getResourceAsStream("web/" + name)) {
      if (in == null) {
        throw new IOException("console asset " + name + " missing from the jar");
      }
      return in.readAllBytes();
    }
  }

  private static String pathForLog(HttpExchange exchange) {
    String p = String.valueOf(exchange.getRequestURI().getRawPath());
    return p.length() > 80 ? p.substring(0, 80) + "..." : p;
  }

  @Override
  public void close() {
    closing = true;
    feed.close();
    subscribers.forEach(Subscriber::wake);
    http.stop(0);
    requests.shutdownNow();
    try {
      requests.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One open page's mailbox: the newest state not yet sent (older ones are superseded). */
  private static final class Subscriber {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private String pending; // guarded by lock
    private boolean woken; // guarded by lock

    void offer(String state) {
      lock.lock();
      try {
        pending = state;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void wake() {
      lock.lock();
      try {
        woken = true;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    /** The pending state, or null after {@code timeout} or a wake-up without one. */
    String take(Duration timeout) throws InterruptedException {
      lock.lock();
      try {
        long left = timeout.toNanos();
        while (pending == null && !woken && left > 0) {
          left = changed.awaitNanos(left);
        }
        String s = pending;
        pending = null;
        return s;
      } finally {
        lock.unlock();
      }
    }
  }
}
