package io.meshwire.netaddr;

import java.util.List;
import java.util.Optional;

/**
 * {@code AddressPolicy} says which prefixes a cluster may own as pod or service CIDRs: unicast
 * ranges no wider than a configured limit, outside every special-purpose range. The hub applies it
 * to what clusters announce and to what it reads back from its store; the agent applies the same
 * policy to what it receives, so a range refused here never reaches a routing table through a
 * buggy or hostile hub. Immutable and thread-safe.
 *
 * <p>Refused: default routes and their halves ({@code 0.0.0.0/0}, {@code 0.0.0.0/1}, {@code
 * 128.0.0.0/1}, {@code ::/0}, {@code ::/1}, {@code 8000::/1}), anything wider than {@link
 * #widestIpv4Prefix} / {@link #widestIpv6Prefix}, and any prefix that overlaps one of {@link
 * #SPECIAL}: "this network", loopback, link-local, multicast, IPv4 reserved/broadcast, the IPv6
 * unspecified address, IPv4-mapped IPv6.
 *
 * @param widestIpv4Prefix the shortest IPv4 prefix length accepted (default 8: a /8 at most)
 * @param widestIpv6Prefix the shortest IPv6 prefix length accepted (default 32)
 */
public record AddressPolicy(int widestIpv4Prefix, int widestIpv6Prefix) {

  /** A special-purpose range and why no cluster can own it. */
  public record Special(Cidr range, String what) {}

  /** The ranges a cluster can never own, in whole or in part. */
  public static final List<Special> SPECIAL = List.of(
      new Special(Cidr.parse("0.0.0.0/8"), "\"this network\" (0.0.0.0/8)"),
      new Special(Cidr.parse("127.0.0.0/8"), "loopback (127.0.0.0/8)"),
      new Special(Cidr.parse("169.254.0.0/16"), "link-local (169.254.0.0/16)"),
      new Special(Cidr.parse("224.0.0.0/4"), "multicast (224.0.0.0/4)"),
      new Special(Cidr.parse("240.0.0.0/4"), "reserved and broadcast (240.0.0.0/4)"),
      new Special(Cidr.parse("::/128"), "the unspecified address (::/128)"),
      new Special(Cidr.parse("::1/128"), "loopback (::1/128)"),
      new Special(new Cidr(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0}, 96),
          "IPv4-mapped IPv6 (::ffff:0:0/96)"),
      new Special(Cidr.parse("fe80::/10"), "link-local (fe80::/10)"),
      new Special(Cidr.parse("ff00::/8"), "multicast (ff00::/8)"));

  /** /8 for IPv4, /32 for IPv6. */
  public static final AddressPolicy DEFAULT = new AddressPolicy(8, 32);

  public AddressPolicy {
    // Below /2 would admit a default route's half: never configurable.
    if (widestIpv4Prefix < 2 || widestIpv4Prefix > 32) {
      throw new IllegalArgumentException("widest IPv4 prefix /" + widestIpv4Prefix + " out of range /2../32");
    }
    if (widestIpv6Prefix < 2 || widestIpv6Prefix > 128) {
      throw new IllegalArgumentException("widest IPv6 prefix /" + widestIpv6Prefix + " out of range /2../128");
    }
  }

  /**
   * Parses the {@code --max-cidr-prefix} setting: {@code "/8,/32"} (IPv4, IPv6; the slashes are
   * optional), or one value for IPv4 only ({@code "/12"}, IPv6 keeps its default).
   *
   * @throws IllegalArgumentException naming the input
   */
  public static AddressPolicy parse(String text) {
    String[] parts = text.split(",", -1);
    if (parts.length > 2) {
      throw new IllegalArgumentException(Quote.of(text) + ": expected /V4 or /V4,/V6 (e.g. /8,/32)");
    }
    int v4 = prefix(parts[0], text);
    int v6 = parts.length == 2 ? prefix(parts[1], text) : DEFAULT.widestIpv6Prefix;
    return new AddressPolicy(v4, v6);
  }

  private static int prefix(String part, String whole) {
    String digits = part.strip();
    if (digits.startsWith("/")) {
      digits = digits.substring(1);
    }
    if (digits.isEmpty() || digits.length() > 3 || !digits.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException(Quote.of(whole) + ": expected /V4 or /V4,/V6 (e.g. /8,/32)");
    }
    return Integer.parseInt(digits);
  }

  /** Why {@code cidr} cannot be a cluster's pod or service range, or empty when it can. */
  public Optional<String> problem(Cidr cidr) {
    if (cidr.prefixLength() <= 1) {
      return Optional.of(cidr + " is a default route" + (cidr.prefixLength() == 1 ? " half" : "")
          + ": no cluster can own it");
    }
    int widest = cidr.isIpv4() ? widestIpv4Prefix : widestIpv6Prefix;
    if (cidr.prefixLength() < widest) {
      return Optional.of(cidr + " is wider than /" + widest + ", the widest " + (cidr.isIpv4() ? "IPv4" : "IPv6")
          + " range a cluster may own (max-cidr-prefix)");
    }
    for (Special s : SPECIAL) {
      if (s.range().overlaps(cidr)) {
        return Optional.of(cidr + " overlaps " + s.what() + ": not a range a cluster can own");
      }
    }
    return Optional.empty();
  }

  /** The setting as {@link #parse} reads it. */
  @Override
  public String toString() {
    return "/" + widestIpv4Prefix + ",/" + widestIpv6Prefix;
  }
}
