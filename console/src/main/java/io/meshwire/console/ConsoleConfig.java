package io.meshwire.console;

import io.meshwire.netaddr.HostPort;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * {@code ConsoleConfig} is the console's settings, validated when built.
 *
 * @param listen where the page is served: a loopback address ({@code 127.0.0.1}, {@code ::1} or
 *     {@code localhost}, which means 127.0.0.1); port 0 picks a free one
 * @param hub the hub's address, as shown on the page and in logs
 * @param pollInterval how often the hub's clusters and link reports are fetched
 */
public record ConsoleConfig(HostPort listen, String hub, Duration pollInterval) {

  /** The default {@code --listen}. */
  public static final String DEFAULT_LISTEN = "127.0.0.1:8080";
  /** Half the 2 s within which the page must show a change that no audit event announces. */
  public static final Duration DEFAULT_POLL = Duration.ofSeconds(1);

  public ConsoleConfig {
    if (pollInterval.compareTo(Duration.ofMillis(100)) < 0 || pollInterval.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("poll interval " + pollInterval + " out of range 100ms..1m");
    }
    if (!isLoopback(listen.host())) {
      throw new IllegalArgumentException("--listen " + listen + ": the console serves this machine only;"
          + " use 127.0.0.1, [::1] or localhost (reach it from elsewhere through an SSH tunnel)");
    }
  }

  /** The address to bind: {@code localhost} is 127.0.0.1 (no resolver involved). */
  public String bindHost() {
    return listen.host().equalsIgnoreCase("localhost") ? "127.0.0.1" : listen.host();
  }

  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!host.contains(":") && !host.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
      return false; // a DNS name: never resolved, never trusted to be loopback
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress(); // a literal: parsed, not resolved
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
