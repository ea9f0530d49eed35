package io.meshwire.agent.path;

/** How a link's traffic flows now. */
public enum Path {
  /** A new peer (or one whose relay went away): the direct endpoint is set, no handshake seen yet. */
  TRYING,
  /** WireGuard sends to the peer's gateway. */
  DIRECT,
  /** WireGuard sends to a local bridge socket that carries datagrams over the peer's home relay. */
  RELAYED;

  /** The word status, metrics and logs use: {@code trying}, {@code direct}, {@code relayed}. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
