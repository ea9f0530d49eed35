package io.meshwire.netaddr;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * {@code Cidr} is an IPv4 or IPv6 prefix in canonical form (host bits zero), the one CIDR type of
 * meshwire. Immutable and thread-safe.
 *
 * <p>{@link #parse} accepts only literal addresses (never resolves names) and rejects a prefix
 * with host bits set, so a record that reaches the mesh is always in the form peers compare.
 *
 * <p>Canonical form, one rule: an IPv4-mapped IPv6 literal ({@code ::ffff:10.0.0.0/112}) is
 * refused by {@link #parse}, naming the IPv4 form to write instead. It is never normalised, so
 * what a caller sent and what the mesh stores are the same text, and {@link #toString} of any
 * {@code Cidr} parses back to an equal one.
 */
public record Cidr(byte[] network, int prefixLength) implements Comparable<Cidr> {

  public Cidr {
    network = network.clone();
    if (network.length != 4 && network.length != 16) {
      throw new IllegalArgumentException("address must be 4 or 16 bytes, got " + network.length);
    }
    if (prefixLength < 0 || prefixLength > network.length * 8) {
      throw new IllegalArgumentException("prefix length " + prefixLength + " out of range");
    }
  }

  /**
   * Parses {@code "10.244.0.0/16"} or {@code "fd00::/64"}.
   *
   * @throws IllegalArgumentException naming the input and what is wrong with it
   */
  public static Cidr parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("\"\": empty CIDR");
    }
    int slash = text.indexOf('/');
    if (slash < 0 || slash != text.lastIndexOf('/')) {
      throw new IllegalArgumentException(Quote.of(text) + ": expected address/prefix");
    }
    byte[] address = parseLiteral(text.substring(0, slash), text);
    if (isIpv4Mapped(address)) {
      String v4 = (address[12] & 0xff) + "." + (address[13] & 0xff) + "." + (address[14] & 0xff) + "."
          + (address[15] & 0xff);
      throw new IllegalArgumentException(Quote.of(text) + ": IPv4-mapped IPv6 address: write the IPv4 form ("
          + v4 + "/<prefix - 96>)");
    }
    String prefixText = text.substring(slash + 1);
    if (prefixText.isEmpty() || prefixText.length() > 3 || !prefixText.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException(Quote.of(text) + ": prefix length is not a number");
    }
    int prefix = Integer.parseInt(prefixText);
    if (prefix > address.length * 8) {
      throw new IllegalArgumentException(Quote.of(text) + ": prefix length out of range");
    }
    byte[] masked = mask(address, prefix);
    if (!Arrays.equals(masked, address)) {
      throw new IllegalArgumentException(
          Quote.of(text) + ": host bits set (did you mean " + new Cidr(masked, prefix) + "?)");
    }
    return new Cidr(address, prefix);
  }

  /** The single-address prefix of {@code address} (/32 or /128). */
  public static Cidr host(InetAddress address) {
    byte[] bytes = address.getAddress();
    return new Cidr(bytes, bytes.length * 8);
  }

  /**
   * Parses an IP literal without any name lookup.
   *
   * @throws IllegalArgumentException if {@code text} is not an IPv4 or IPv6 literal
   */
  public static InetAddress parseAddress(String text) {
    try {
      return InetAddress.getByAddress(parseLiteral(text, text));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(Quote.of(text) + ": " + e.getMessage(), e);
    }
  }

  private static byte[] parseLiteral(String address, String whole) {
    boolean v4 = !address.isEmpty() && address.chars().allMatch(c -> c == '.' || Character.isDigit(c));
    boolean v6 = address.indexOf(':') >= 0
        && address.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0);
    if (v4) {
      String[] parts = address.split("\\.", -1);
      if (parts.length != 4) {
        throw new IllegalArgumentException(Quote.of(whole) + ": not an IPv4 address");
      }
      byte[] out = new byte[4];
      for (int i = 0; i < 4; i++) {
        if (parts[i].isEmpty() || parts[i].length() > 3) {
          throw new IllegalArgumentException(Quote.of(whole) + ": not an IPv4 address");
        }
        int octet = Integer.parseInt(parts[i]);
        if (octet > 255) {
          throw new IllegalArgumentException(Quote.of(whole) + ": octet " + octet + " out of range");
        }
        out[i] = (byte) octet;
      }
      return out;
    }
    if (v6) {
      try {
        // Only hex digits, ':' and '.' got here, so this cannot trigger a name lookup.
        byte[] out = InetAddress.getByName(address).getAddress();
        if (out.length == 16) {
          return out;
        }
        // An IPv4-mapped literal: Java hands back 4 bytes; keep it IPv6.
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(out, 0, mapped, 12, 4);
        return mapped;
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(Quote.of(whole) + ": not an IPv6 address", e);
      }
    }
    throw new IllegalArgumentException(Quote.of(whole) + ": not an IP address");
  }

  /** True for the 16 bytes of an IPv4-mapped IPv6 address ({@code ::ffff:0:0/96}). */
  static boolean isIpv4Mapped(byte[] address) {
    if (address.length != 16 || address[10] != (byte) 0xff || address[11] != (byte) 0xff) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (address[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static byte[] mask(byte[] address, int prefix) {
    byte[] out = address.clone();
    for (int bit = prefix; bit < out.length * 8; bit++) {
      out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return out;
  }

  @Override
  public byte[] network() {
    return network.clone();
  }

  public boolean isIpv4() {
    return network.length == 4;
  }

  /** Number of bits in an address of this family (32 or 128). */
  public int addressBits() {
    return network.length * 8;
  }

  public InetAddress address() {
    try {
      return InetAddress.getByAddress(network);
    } catch (UnknownHostException e) {
      throw new AssertionError(e); // length is checked in the constructor
    }
  }

  /** True when {@code address} lies in this prefix (always false across families). */
  public boolean contains(InetAddress address) {
    byte[] bytes = address.getAddress();
    return bytes.length == network.length && Arrays.equals(mask(bytes, prefixLength), network);
  }

  /** True when this prefix contains every address of {@code other}. */
  public boolean contains(Cidr other) {
    return other.network.length == network.length
        && other.prefixLength >= prefixLength
        && Arrays.equals(mask(other.network, prefixLength), network);
  }

  /** True when the two prefixes share at least one address. */
  public boolean overlaps(Cidr other) {
    return contains(other) || other.contains(this);
  }

  /** The first address as an unsigned number, for arithmetic in allocators. */
  public BigInteger first() {
    return new BigInteger(1, network);
  }

  /**
   * Prefix-preserving translation: {@code address} of {@code from} as it appears in {@code to}, a
   * CIDR of the same family and size ({@code 10.244.3.7} from {@code 10.244.0.0/16} to {@code
   * 10.1.0.0/16} is {@code 10.1.3.7}). See {@link Translation}.
   *
   * @throws IllegalArgumentException if the CIDRs differ in family or size, or {@code address} is
   *     not in {@code from}
   */
  public static InetAddress translate(InetAddress address, Cidr from, Cidr to) {
    return new Translation(from, to).forward(address);
  }

  /** The address right after the last of this prefix, as an unsigned number (exclusive end). */
  public BigInteger end() {
    return first().add(size());
  }

  /**
   * The prefix of {@code prefixLength} bits whose first address is {@code first}.
   *
   * @param ipv4 the family
   * @throws IllegalArgumentException if {@code first} is out of the family's range or has host bits set
   */
  public static Cidr of(BigInteger first, int prefixLength, boolean ipv4) {
    int bytes = ipv4 ? 4 : 16;
    if (first.signum() < 0 || first.bitLength() > bytes * 8) {
      throw new IllegalArgumentException("address " + first + " out of range for " + (ipv4 ? "IPv4" : "IPv6"));
    }
    byte[] raw = first.toByteArray(); // big-endian, maybe with a leading sign byte
    byte[] out = new byte[bytes];
    int copy = Math.min(raw.length, bytes);
    System.arraycopy(raw, raw.length - copy, out, bytes - copy, copy);
    Cidr cidr = new Cidr(out, prefixLength);
    if (!Arrays.equals(mask(out, prefixLength), out)) {
      throw new IllegalArgumentException(cidr + ": host bits set");
    }
    return cidr;
  }

  /** Number of addresses in the prefix. */
  public BigInteger size() {
    return BigInteger.ONE.shiftLeft(addressBits() - prefixLength);
  }

  @Override
  public String toString() {
    return format(network) + "/" + prefixLength;
  }

  /** Formats an address canonically: dotted IPv4, or RFC 5952 IPv6 (longest zero run as "::"). */
  public static String format(InetAddress address) {
    return format(address.getAddress());
  }

  /**
   * Formats 4 or 16 address bytes. Sixteen bytes always print as IPv6 (an IPv4-mapped address as
   * {@code ::ffff:a0a:0}), never as IPv4 text: the family of a value never changes on the way out.
   */
  private static String format(byte[] b) {
    if (b.length == 4) {
      return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is not compressed
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefixLength == prefixLength && Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(network) * 31 + prefixLength;
  }

  @Override
  public int compareTo(Cidr o) {
    int byFamily = Integer.compare(network.length, o.network.length);
    if (byFamily != 0) {
      return byFamily;
    }
    int byNetwork = Arrays.compareUnsigned(network, o.network);
    return byNetwork != 0 ? byNetwork : Integer.compare(prefixLength, o.prefixLength);
  }
}
