package io.meshwire.agent.ipam;

import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import java.util.List;
import java.util.Optional;

/**
 * {@code ViewChecks} decides whether a view another cluster published of this one can be applied:
 * every mapping must name one of this cluster's pod CIDRs (once) and a block of the same family
 * and size, and no two seen-as blocks may overlap. A view that fails would make this gateway
 * translate into a range of the wrong size or for addresses it does not own. Pure and thread-safe.
 */
public final class ViewChecks {

  private ViewChecks() {}

  /**
   * The first problem of {@code view} as a view of this cluster, or empty when it can be applied.
   *
   * @param ownPodCidrs this cluster's pod CIDRs
   * @return e.g. {@code view west->east: mappings[0].seen_as: "10.1.0.0/24" is not the size of
   *     original "10.244.0.0/16"}
   */
  public static Optional<String> problemAsViewOfMe(View view, List<Cidr> ownPodCidrs) {
    String name = "view " + view.observerClusterId() + "->" + view.subjectClusterId() + ": ";
    List<View.Mapping> mappings = view.mappings();
    for (int i = 0; i < mappings.size(); i++) {
      View.Mapping m = mappings.get(i);
      String field = "mappings[" + i + "]";
      if (!ownPodCidrs.contains(m.original())) {
        return Optional.of(name + field + ".original: \"" + m.original() + "\" is not one of my pod CIDRs "
            + ownPodCidrs);
      }
      if (m.original().isIpv4() != m.seenAs().isIpv4() || m.original().prefixLength() != m.seenAs().prefixLength()) {
        return Optional.of(name + field + ".seen_as: \"" + m.seenAs() + "\" is not the size of original \""
            + m.original() + "\"");
      }
      for (int j = 0; j < i; j++) {
        if (mappings.get(j).original().equals(m.original())) {
          return Optional.of(name + field + ".original: \"" + m.original() + "\" is mapped twice");
        }
        if (mappings.get(j).seenAs().overlaps(m.seenAs())) {
          return Optional.of(name + field + ".seen_as: \"" + m.seenAs() + "\" overlaps mappings[" + j
              + "].seen_as \"" + mappings.get(j).seenAs() + "\"");
        }
      }
    }
    return Optional.empty();
  }
}
