package io.meshwire.console;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@code RequestGuard} decides whether a browser request may reach the console. The console serves
 * the mesh to whoever can open its URL, so it only answers requests that a page it served itself
 * could make:
 *
 * <ul>
 *   <li>{@code Host} must name the console's own loopback address (or {@code localhost}) and port:
 *       a DNS-rebinding page reaches 127.0.0.1 under its own name and is refused here;
 *   <li>{@code Origin}, when present, must be the console's own origin ({@code http://} + one of
 *       those hosts): no other site's script may read or stream from it, and there is no CORS;
 *   <li>{@code Sec-Fetch-Site}, when present, must be {@code same-origin} or {@code none} (typed
 *       into the address bar): a {@code <script src>} or {@code <img>} on another site sends no
 *       {@code Origin} but is marked {@code cross-site} by the browser.
 * </ul>
 *
 * Immutable, so thread-safe.
 */
public final class RequestGuard {

  private final Set<String> hosts;

  /**
   * A guard for a console listening on {@code bindHost} (a loopback literal) and {@code port}.
   */
  public RequestGuard(String bindHost, int port) {
    String literal = bindHost.indexOf(':') >= 0 ? "[" + bindHost + "]" : bindHost;
    this.hosts = Set.of(literal + ":" + port, "localhost:" + port);
  }

  /**
   * Returns why the request is refused, or empty when it may pass.
   *
   * @param host the {@code Host} header, null when absent
   * @param origin the {@code Origin} header, null when absent
   * @param fetchSite the {@code Sec-Fetch-Site} header, null when absent
   */
  public Optional<String> refusal(String host, String origin, String fetchSite) {
    if (host == null || host.isEmpty()) {
      return Optional.of("no Host header");
    }
    if (!hosts.contains(host.toLowerCase(Locale.ROOT))) {
      return Optional.of("Host " + quoted(host) + " is not this console (expected one of " + hosts + ")");
    }
    if (origin != null && !hosts.stream().anyMatch(h -> origin.equalsIgnoreCase("http://" + h))) {
      return Optional.of("Origin " + quoted(origin) + " is another site; the console answers only its own page");
    }
    if (fetchSite != null && !fetchSite.equals("same-origin") && !fetchSite.equals("none")) {
      return Optional.of("Sec-Fetch-Site " + quoted(fetchSite) + ": a request from another site");
    }
    return Optional.empty();
  }

  /** At most 100 characters of a header value, quoted. */
  private static String quoted(String value) {
    String v = value.length() > 100 ? value.substring(0, 100) + "..." : value;
    return "\"" + v.replaceAll("\\p{Cntrl}", "?") + "\"";
  }
}
