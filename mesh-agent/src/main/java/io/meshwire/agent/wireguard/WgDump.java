package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code WgDump} parses the output of {@code wg show IF dump}: tab-separated, the first line
 * {@code private-key public-key listen-port fwmark}, then one line per peer {@code public-key
 * preshared-key endpoint allowed-ips latest-handshake rx-bytes tx-bytes persistent-keepalive},
 * where {@code (none)} marks an absent value, allowed-ips are comma-separated, latest-handshake is
 * in epoch seconds (0 = never) and keepalive is {@code off} or seconds. Pure and thread-safe.
 */
final class WgDump {
  private static final String NONE = "(none)";

  private WgDump() {}

  /**
   * Parses a dump of interface {@code ifName}.
   *
   * @throws IllegalArgumentException naming the interface, the line and the field that is wrong;
   *     key material is never quoted
   */
  public static WgInterfaceState parse(String ifName, String dump) {
    List<String> lines = dump.lines().filter(l -> !l.isBlank()).toList();
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("wg show " + ifName + " dump: empty output");
    }
    String[] head = fields(ifName, 1, lines.get(0), 4);
    String privateKey = none(head[0]);
    String publicKey = none(head[1]);
    int listenPort = (int) number(ifName, 1, "listen-port", head[2], 65535);
    List<WgPeerState> peers = new ArrayList<>(lines.size() - 1);
    for (int i = 1; i < lines.size(); i++) {
      peers.add(peer(ifName, i + 1, lines.get(i)));
    }
    return new WgInterfaceState(privateKey, publicKey, listenPort, peers);
  }

  private static WgPeerState peer(String ifName, int lineNo, String line) {
    String[] f = fields(ifName, lineNo, line, 8);
    String publicKey = f[0];
    Optional<InetSocketAddress> endpoint;
    try {
      endpoint = NONE.equals(f[2]) ? Optional.empty() : Optional.of(Endpoints.parse(f[2]));
    } catch (IllegalArgumentException e) {
      throw error(ifName, lineNo, e.getMessage());
    }
    List<Cidr> allowed = new ArrayList<>();
    if (!NONE.equals(f[3]) && !f[3].isEmpty()) {
      for (String cidr : f[3].split(",")) {
        try {
          allowed.add(Cidr.parse(cidr));
        } catch (IllegalArgumentException e) {
          throw error(ifName, lineNo, "allowed-ips " + e.getMessage());
        }
      }
    }
    long handshake = number(ifName, lineNo, "latest-handshake", f[4], Long.MAX_VALUE);
    long rx = number(ifName, lineNo, "transfer-rx", f[5], Long.MAX_VALUE);
    long tx = number(ifName, lineNo, "transfer-tx", f[6], Long.MAX_VALUE);
    Duration keepalive =
        "off".equals(f[7])
            ? Duration.ZERO
            : Duration.ofSeconds(number(ifName, lineNo, "persistent-keepalive", f[7], 65535));
    return new WgPeerState(
        publicKey,
        endpoint,
        allowed,
        handshake == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(handshake)),
        rx,
        tx,
        keepalive);
  }

  private static String[] fields(String ifName, int lineNo, String line, int expected) {
    String[] f = line.split("\t", -1);
    if (f.length != expected) {
      throw error(ifName, lineNo, f.length + " tab-separated fields, expected " + expected);
    }
    return f;
  }

  private static long number(String ifName, int lineNo, String field, String text, long max) {
    try {
      long value = Long.parseLong(text);
      if (value < 0 || value > max) {
        throw error(ifName, lineNo, field + " \"" + text + "\": out of range");
      }
      return value;
    } catch (NumberFormatException e) {
      throw error(ifName, lineNo, field + " \"" + text + "\": not a number");
    }
  }

  private static String none(String value) {
    return NONE.equals(value) ? "" : value;
  }

  private static IllegalArgumentException error(String ifName, int lineNo, String what) {
    return new IllegalArgumentException("wg show " + ifName + " dump line " + lineNo + ": " + what);
  }
}
