package io.meshwire.agent.nat;

import io.meshwire.netaddr.Cidr;

/** {@code NatFamily} is an address family as nftables names it: one table of the agent per family. */
enum NatFamily {
  IPV4("ip"),
  IPV6("ip6");

  private final String nft;

  NatFamily(String nft) {
    this.nft = nft;
  }

  /** The family keyword of nftables, also the payload protocol of address matches: {@code ip} or {@code ip6}. */
  public String nft() {
    return nft;
  }

  public static NatFamily of(Cidr cidr) {
    return cidr.isIpv4() ? IPV4 : IPV6;
  }
}
