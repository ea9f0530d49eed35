package io.meshwire.hub.policy;

/**
 * {@code PeeringDefault} is the hub's {@code --default-peering}: whether a cluster that no allow
 * policy selects (in its {@code clusters}) may peer with everyone ({@code ALLOW}, today's full
 * mesh) or with nobody ({@code DENY}).
 */
public enum PeeringDefault {
  ALLOW, DENY;

  /** Parses "allow" or "deny" (any case). */
  public static PeeringDefault parse(String text) {
    return switch (text.toLowerCase(java.util.Locale.ROOT)) {
      case "allow" -> ALLOW;
      case "deny" -> DENY;
      default -> throw new IllegalArgumentException("default-peering: \"" + text + "\" is not allow or deny");
    };
  }
}
