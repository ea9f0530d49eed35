package io.meshwire.agent.path;

/**
 * Where WireGuard's endpoint for the peer moved on its own since the last observation. WireGuard
 * roams to the source of any authenticated packet, so a move means the peer switched path first:
 * {@code TO_DIRECT} (its packets now come straight from its gateway) or {@code TO_RELAY} (they
 * come from our bridge socket). Following the peer at once is what keeps the pair from fighting
 * over the endpoint.
 */
enum Roam {
  NONE,
  TO_DIRECT,
  TO_RELAY
}
