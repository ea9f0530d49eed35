package io.meshwire.netaddr;

/**
 * {@code HostPort} is an endpoint {@code "host:port"} or {@code "[ipv6]:port"}, where host is an IP
 * literal or a DNS name. Immutable. Parsing never resolves names.
 */
public record HostPort(String host, int port) {

  public HostPort {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " out of range 0..65535");
    }
  }

  /** Parses an address to listen on: like {@link #parse}, but port 0 (any free port) is allowed. */
  public static HostPort parseListen(String text) {
    return parse(text, 0);
  }

  /**
   * Parses an endpoint.
   *
   * @throws IllegalArgumentException naming the input and what is wrong with it
   */
  public static HostPort parse(String text) {
    return parse(text, 1);
  }

  private static HostPort parse(String text, int minPort) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("\"\": empty endpoint");
    }
    String host;
    String portText;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw new IllegalArgumentException(Quote.of(text) + ": expected [ipv6]:port");
      }
      host = text.substring(1, close);
      portText = text.substring(close + 2);
      try {
        Cidr.parseAddress(host);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(Quote.of(text) + ": not an IPv6 literal in brackets", e);
      }
    } else {
      int colon = text.lastIndexOf(':');
      if (colon <= 0 || text.indexOf(':') != colon) {
        throw new IllegalArgumentException(Quote.of(text) + ": expected host:port");
      }
      host = text.substring(0, colon);
      portText = text.substring(colon + 1);
      if (!isIpv4Literal(host) && !isDnsName(host)) {
        throw new IllegalArgumentException(Quote.of(text) + ": host is neither an IP address nor a DNS name");
      }
    }
    if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException(Quote.of(text) + ": port is not a number");
    }
    int port = Integer.parseInt(portText);
    if (port < minPort || port > 65535) {
      throw new IllegalArgumentException(Quote.of(text) + ": port out of range " + minPort + "..65535");
    }
    return new HostPort(host, port);
  }

  private static boolean isIpv4Literal(String host) {
    if (!host.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
      return false;
    }
    Cidr.parseAddress(host); // throws with a clear message on a bad octet
    return true;
  }

  private static boolean isDnsName(String host) {
    if (host.length() > 253) {
      return false;
    }
    for (String label : host.split("\\.", -1)) {
      if (!label.matches("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
