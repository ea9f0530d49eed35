package io.meshwire.agent.ipam;

import io.meshwire.netaddr.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@code IpamSettings} is what the IPAM needs to know about this cluster: its own pod and service
 * CIDRs (never hidden behind a peer), ranges the operator reserves (node networks, tunnel addresses,
 * anything else routed locally), and the pools remapped blocks are cut from. Immutable.
 *
 * @param ownPodCidrs this cluster's pod CIDRs
 * @param ownServiceCidrs this cluster's service CIDRs
 * @param reserved ranges no peer may be seen as (setting {@code reserved-cidrs})
 * @param pools where remapped blocks come from, in order of preference; pairwise disjoint (setting
 *     {@code remap-pools}); IPv6 pod CIDRs need an IPv6 pool
 */
public record IpamSettings(List<Cidr> ownPodCidrs, List<Cidr> ownServiceCidrs, List<Cidr> reserved, List<Cidr> pools) {

  /**
   * Ranges clusters rarely use for pods or services: the shared address space of RFC 6598 (CGNAT,
   * 100.64.0.0/10) for IPv4, then an IPv6 unique local /48 (RFC 4193) for IPv6. Not RFC 1918: a
   * view cut from 10.0.0.0/8 could be the very range a cluster joining later really uses.
   */
  public static final List<Cidr> DEFAULT_POOLS =
      List.of(Cidr.parse("100.64.0.0/10"), Cidr.parse("fd6d:7769:7265::/48"));

  public IpamSettings {
    ownPodCidrs = List.copyOf(ownPodCidrs);
    ownServiceCidrs = List.copyOf(ownServiceCidrs);
    reserved = List.copyOf(reserved);
    pools = List.copyOf(pools);
    checkPools(pools, "remap-pools");
  }

  /**
   * Rejects pools that overlap one another (a block could then be handed out twice).
   *
   * @param setting the name to put in the message
   * @throws IllegalArgumentException naming the setting and both pools
   */
  public static void checkPools(List<Cidr> pools, String setting) {
    for (int i = 0; i < pools.size(); i++) {
      Objects.requireNonNull(pools.get(i), setting + "[" + i + "]");
      for (int j = 0; j < i; j++) {
        if (pools.get(i).overlaps(pools.get(j))) {
          throw new IllegalArgumentException(setting + "[" + i + "]: " + pools.get(i) + " overlaps " + setting + "["
              + j + "] " + pools.get(j));
        }
      }
    }
  }

  /** Everything routed locally: own pod and service CIDRs and the reserved ranges. */
  public List<Cidr> local() {
    List<Cidr> out = new ArrayList<>(ownPodCidrs);
    out.addAll(ownServiceCidrs);
    out.addAll(reserved);
    return List.copyOf(out);
  }
}
