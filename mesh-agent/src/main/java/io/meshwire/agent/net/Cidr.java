package io.meshwire.agent.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/**
 * {@code Cidr} is an IP address with a prefix length, IPv4 or IPv6: the agent's one CIDR type for
 * pod and service CIDRs, WireGuard AllowedIPs, routes and interface addresses. Immutable and
 * thread-safe.
 *
 * <p>The address may have host bits set ({@code 10.101.0.1/16} is a valid interface address);
 * {@link #network()} clears them and {@link #parseNetwork} rejects them, which is what
 * configuration of a pod CIDR wants. Equality is on the address bytes as given and the prefix
 * length, so compare {@link #network()}s when host bits do not matter.
 *
 * <p>Parsing never resolves names: only numeric literals are accepted, and errors quote the input,
 * e.g. {@code "10.0.0.0/33": prefix length out of range}. {@link #toString()} is canonical: dotted
 * quad for IPv4, RFC 5952 (lowercase, longest zero run as {@code ::}) for IPv6.
 *
 * @param address the address, {@link Inet4Address} or {@link Inet6Address}, without scope
 * @param prefixLength 0..32 for IPv4, 0..128 for IPv6
 */
public record Cidr(InetAddress address, int prefixLength) implements Comparable<Cidr> {

  public Cidr {
    Objects.requireNonNull(address, "address");
    // Drop host names and IPv6 scope ids: equality, hashing and printing depend on bytes only.
    address = fromBytes(address.getAddress());
    int max = address.getAddress().length * 8;
    if (prefixLength < 0 || prefixLength > max) {
      throw new IllegalArgumentException(
          "\"" + formatAddress(address) + "/" + prefixLength + "\": prefix length out of range");
    }
  }

  /** {@code address/prefixLength}; see the record's constructor for the rules. */
  public static Cidr of(InetAddress address, int prefixLength) {
    return new Cidr(address, prefixLength);
  }

  /** A single address: {@code /32} for IPv4, {@code /128} for IPv6. */
  public static Cidr host(InetAddress address) {
    return new Cidr(address, address.getAddress().length * 8);
  }

  /**
   * Parses {@code address/prefix}, e.g. {@code 10.101.0.0/16}, {@code 10.101.0.1/16} or {@code
   * fd00:10::/64}. Host bits may be set.
   *
   * @throws IllegalArgumentException naming the input if it is not a CIDR
   */
  public static Cidr parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("null: not a CIDR");
    }
    String s = text.strip();
    int slash = s.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("\"" + text + "\": not a CIDR, expected address/prefix");
    }
    InetAddress address;
    try {
      address = parseAddress(s.substring(0, slash));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"" + text + "\": not a CIDR, bad address", e);
    }
    String prefix = s.substring(slash + 1);
    if (prefix.isEmpty() || prefix.length() > 3 || !prefix.chars().allMatch(Cidr::isDigit)) {
      throw new IllegalArgumentException("\"" + text + "\": not a CIDR, bad prefix length");
    }
    int length = Integer.parseInt(prefix);
    if (length > address.getAddress().length * 8) {
      throw new IllegalArgumentException("\"" + text + "\": prefix length out of range");
    }
    return new Cidr(address, length);
  }

  /**
   * Parses a network: like {@link #parse} but the host bits must be zero.
   *
   * @throws IllegalArgumentException naming the input and the network it probably meant, e.g.
   *     {@code "10.0.0.5/8": host bits set, the network is 10.0.0.0/8}
   */
  public static Cidr parseNetwork(String text) {
    Cidr cidr = parse(text);
    if (!cidr.isNetwork()) {
      throw new IllegalArgumentException(
          "\"" + text + "\": host bits set, the network is " + cidr.network());
    }
    return cidr;
  }

  /**
   * Parses a numeric IPv4 (dotted quad) or IPv6 literal, without any name lookup.
   *
   * @throws IllegalArgumentException naming the input if it is not an address literal
   */
  public static InetAddress parseAddress(String literal) {
    if (literal == null || literal.isEmpty()) {
      throw new IllegalArgumentException("\"" + literal + "\": not an IP address");
    }
    if (literal.indexOf(':') < 0) {
      return fromBytes(parseIpv4(literal));
    }
    for (int i = 0; i < literal.length(); i++) {
      char c = literal.charAt(i);
      if (!(isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) {
        throw new IllegalArgumentException("\"" + literal + "\": not an IP address");
      }
    }
    try {
      // With a ':' and only hex digits, dots and colons, this parses a literal; it never resolves.
      InetAddress address = InetAddress.getByName(literal);
      if (address instanceof Inet4Address) {
        throw new IllegalArgumentException(
            "\"" + literal + "\": IPv4-mapped IPv6 addresses are not supported, use the IPv4 form");
      }
      return address;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("\"" + literal + "\": not an IP address", e);
    }
  }

  /** The canonical text of an address: dotted quad, or RFC 5952 for IPv6. */
  public static String formatAddress(InetAddress address) {
    byte[] b = address.getAddress();
    if (b.length == 4) {
      return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1; // RFC 5952 4.2.2: a single zero group is not shortened
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder text = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        text.append("::");
        i += bestLength - 1;
        continue;
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[i]));
    }
    return text.toString();
  }

  /** Whether this is IPv4. */
  public boolean isIpv4() {
    return address instanceof Inet4Address;
  }

  /** 32 or 128. */
  public int addressBits() {
    return address.getAddress().length * 8;
  }

  /** This CIDR with the host bits cleared, e.g. {@code 10.101.0.0/16} for {@code 10.101.0.1/16}. */
  public Cidr network() {
    return isNetwork() ? this : new Cidr(fromBytes(masked(address.getAddress(), prefixLength)), prefixLength);
  }

  /** Whether the host bits are all zero. */
  public boolean isNetwork() {
    byte[] bytes = address.getAddress();
    return Arrays.equals(bytes, masked(bytes, prefixLength));
  }

  /** Whether {@code other} (same family) lies inside this network. */
  public boolean contains(InetAddress other) {
    byte[] mine = address.getAddress();
    byte[] theirs = other.getAddress();
    return mine.length == theirs.length
        && Arrays.equals(masked(mine, prefixLength), masked(theirs, prefixLength));
  }

  /** Whether all of {@code other} (same family) lies inside this network. */
  public boolean contains(Cidr other) {
    return other.prefixLength >= prefixLength && contains(other.address);
  }

  /** Whether this and {@code other} share at least one address. */
  public boolean overlaps(Cidr other) {
    return contains(other) || other.contains(this);
  }

  /** IPv4 before IPv6, then by address bytes (unsigned), then by prefix length. */
  @Override
  public int compareTo(Cidr other) {
    byte[] a = address.getAddress();
    byte[] b = other.address.getAddress();
    if (a.length != b.length) {
      return Integer.compare(a.length, b.length);
    }
    int byAddress = Arrays.compareUnsigned(a, b);
    return byAddress != 0 ? byAddress : Integer.compare(prefixLength, other.prefixLength);
  }

  /** {@code address/prefixLength} in canonical form, e.g. {@code fd00:10::/64}. */
  @Override
  public String toString() {
    return formatAddress(address) + "/" + prefixLength;
  }

  private static byte[] masked(byte[] bytes, int prefixLength) {
    byte[] out = bytes.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, prefixLength - i * 8));
      out[i] = (byte) (out[i] & (0xff << (8 - keep)));
    }
    return out;
  }

  private static byte[] parseIpv4(String literal) {
    String[] parts = literal.split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("\"" + literal + "\": not an IP address");
    }
    byte[] bytes = new byte[4];
    for (int i = 0; i < 4; i++) {
      String part = parts[i];
      if (part.isEmpty()
          || part.length() > 3
          || !part.chars().allMatch(Cidr::isDigit)
          || Integer.parseInt(part) > 255) {
        throw new IllegalArgumentException("\"" + literal + "\": not an IP address");
      }
      bytes[i] = (byte) Integer.parseInt(part);
    }
    return bytes;
  }

  private static InetAddress fromBytes(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("address of " + bytes.length + " bytes", e);
    }
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }
}
