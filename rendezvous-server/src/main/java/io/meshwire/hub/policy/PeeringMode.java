package io.meshwire.hub.policy;

import io.meshwire.hub.membership.Rejection;

/**
 * {@code PeeringMode} is what a policy says about the pairs it selects, from the least to the
 * most restrictive: {@code DIRECT} (a tunnel, direct path first, relay when direct fails),
 * {@code RELAY_ONLY} (a tunnel that only ever uses a relay), {@code DENY} (no tunnel). When several
 * policies select one pair, the most restrictive wins.
 */
public enum PeeringMode implements Spelled {
  DIRECT("direct"), RELAY_ONLY("relay-only"), DENY("deny");

  private final String spelling;

  PeeringMode(String spelling) {
    this.spelling = spelling;
  }

  /** The spelling in policy files and on the command line. */
  @Override
  public String spelling() {
    return spelling;
  }

  public static PeeringMode parse(String field, String text) throws Rejection {
    return Spelled.parse(PeeringMode.class, field, text);
  }

  /** The more restrictive of the two. */
  PeeringMode and(PeeringMode other) {
    return compareTo(other) >= 0 ? this : other;
  }
}
