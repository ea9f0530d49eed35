package io.meshwire.agent.nat;

import io.meshwire.netaddr.Cidr;
import java.util.Comparator;
import java.util.Objects;

/**
 * {@code NatRule} is one prefix-preserving (NETMAP) translation on the gateway, for traffic with
 * one peer through the WireGuard interface. Each carries the peer's ID, written into the rule's
 * comment. Immutable.
 */
sealed interface NatRule {

  /** Rules sort by kind, peer, then addresses: the order they are written in. */
  Comparator<NatRule> ORDER = Comparator.comparing((NatRule r) -> r instanceof Dnat ? 0 : 1)
      .thenComparing(NatRule::peer)
      .thenComparing(NatRule::saddr)
      .thenComparing(NatRule::daddr)
      .thenComparing(NatRule::to)
      .thenComparing(NatRule::ifName);

  String peer();

  String ifName();

  Cidr saddr();

  Cidr daddr();

  /** The prefix the translated address field is mapped into. */
  Cidr to();

  default NatFamily family() {
    return NatFamily.of(saddr());
  }

  /**
   * Source NAT at postrouting: packets leaving through {@code oifName} from this cluster's pod
   * CIDR {@code saddr} to the peer (as this cluster sees it, {@code daddr}) get their source
   * mapped into {@code to}, how the peer sees this cluster.
   */
  record Snat(String peer, String ifName, Cidr saddr, Cidr daddr, Cidr to) implements NatRule {
    public Snat {
      check(peer, ifName, saddr, daddr, to, saddr, "snat");
    }
  }

  /**
   * Destination NAT at prerouting: packets arriving through {@code iifName} from the peer (as this
   * cluster sees it, {@code saddr}) to this cluster as the peer sees it ({@code daddr}) get their
   * destination mapped back into {@code to}, this cluster's own pod CIDR.
   */
  record Dnat(String peer, String ifName, Cidr saddr, Cidr daddr, Cidr to) implements NatRule {
    public Dnat {
      check(peer, ifName, saddr, daddr, to, daddr, "dnat");
    }
  }

  private static void check(String peer, String ifName, Cidr saddr, Cidr daddr, Cidr to, Cidr translated,
      String kind) {
    Objects.requireNonNull(saddr, kind + " saddr");
    Objects.requireNonNull(daddr, kind + " daddr");
    Objects.requireNonNull(to, kind + " to");
    if (peer == null || !peer.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
      throw new IllegalArgumentException(kind + " rule: peer: \"" + peer + "\" is not a cluster ID");
    }
    if (ifName == null || !ifName.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException(kind + " rule for peer " + peer + ": interface: \"" + ifName
          + "\" is not an interface name");
    }
    if (saddr.isIpv4() != daddr.isIpv4() || saddr.isIpv4() != to.isIpv4()) {
      throw new IllegalArgumentException(kind + " rule for peer " + peer + ": saddr " + saddr + ", daddr " + daddr
          + " and to " + to + " mix address families");
    }
    if (translated.prefixLength() != to.prefixLength()) {
      throw new IllegalArgumentException(kind + " rule for peer " + peer + ": to: " + to
          + " is not the size of " + translated);
    }
  }
}
