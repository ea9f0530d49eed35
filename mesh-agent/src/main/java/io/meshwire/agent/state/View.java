package io.meshwire.agent.state;

import io.meshwire.netaddr.Cidr;
import java.util.List;

/**
 * {@code View} is how the observer cluster sees the subject's pod CIDRs: each mapping says that
 * addresses of {@code original} appear as {@code seenAs}. A CIDR without a mapping is seen as
 * itself. Immutable.
 */
public record View(String observerClusterId, String subjectClusterId, List<Mapping> mappings, long generation) {

  public View {
    mappings = List.copyOf(mappings);
  }

  /** One remapped CIDR: same family and prefix length on both sides. */
  public record Mapping(Cidr original, Cidr seenAs) {}

  /** How the observer sees {@code cidr} of the subject. */
  public Cidr seenAs(Cidr cidr) {
    return mappings.stream().filter(m -> m.original().equals(cidr)).map(Mapping::seenAs).findFirst().orElse(cidr);
  }
}
