package io.meshwire.agent.reconcile;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * {@code EndpointResolver} turns a gateway endpoint's host (an address literal or a DNS name) into
 * an address for the {@link Planner}. The agent uses {@link SystemResolver}; tests pass a table, so
 * planning stays free of DNS.
 */
@FunctionalInterface
interface EndpointResolver {

  /** The address of {@code host}; {@link UnknownHostException} when it does not resolve. */
  InetAddress resolve(String host) throws UnknownHostException;
}
