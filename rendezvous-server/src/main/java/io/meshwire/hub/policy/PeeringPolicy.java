package io.meshwire.hub.policy;

import io.meshwire.hub.membership.Rejection;
import io.meshwire.netaddr.Quote;
import java.util.regex.Pattern;

/**
 * {@code PeeringPolicy} says that clusters selected by {@code clusters} may peer with clusters
 * selected by {@code peers} ({@code DIRECT} or {@code RELAY_ONLY}), or must not ({@code DENY}). It
 * speaks for one direction: a pair connects only when each side is allowed towards the other, and
 * no deny policy selects it in either direction. Immutable; build through {@link #of} to validate.
 */
public record PeeringPolicy(String name, Selector clusters, Selector peers, PeeringMode mode) {

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?");

  /** A validated policy; {@code field} prefixes errors about the name ("metadata.name"). */
  public static PeeringPolicy of(String field, String name, Selector clusters, Selector peers, PeeringMode mode)
      throws Rejection {
    return new PeeringPolicy(name(field, name), clusters, peers, mode);
  }

  /** Checks a policy name: 1..63 lower-case alphanumerics, '-' or '.', alphanumeric at both ends. */
  public static String name(String field, String name) throws Rejection {
    if (!NAME.matcher(name).matches()) {
      throw Rejection.invalid(field, Quote.of(name) + " is not a valid policy name: 1..63 lower-case "
          + "alphanumerics, '-' or '.', starting and ending with an alphanumeric");
    }
    return name;
  }

  /** True when this policy speaks for the direction {@code from} towards {@code to}. */
  boolean selects(String from, java.util.Map<String, String> fromLabels, String to,
      java.util.Map<String, String> toLabels) {
    return clusters.matches(from, fromLabels) && peers.matches(to, toLabels);
  }
}
