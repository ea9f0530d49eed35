package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.HostPort;
import java.util.List;

/**
 * {@code EndpointSource} is where the gateway endpoints the agent announces come from: the
 * configured ones, followed on the local interfaces ({@link EndpointFollower}), or a file that an
 * operator's hook keeps up to date ({@link EndpointFile}). The agent calls {@link #check} every
 * two seconds and announces again when it reports a change.
 */
public interface EndpointSource {

  /** The endpoints to announce now (1..8). */
  List<HostPort> endpoints();

  /** Looks again; true when {@link #endpoints} changed. */
  boolean check();
}
