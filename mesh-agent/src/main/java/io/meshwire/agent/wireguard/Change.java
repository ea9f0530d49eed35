package io.meshwire.agent.wireguard;

import io.meshwire.netaddr.Cidr;
import java.util.Objects;
import java.util.Set;

/**
 * {@code Change} is one step that brings a WireGuard interface and its routes from the actual to
 * the desired state, as computed by {@link DataPlaneDiff}. Immutable.
 */
public sealed interface Change {

  /** A peer field that an {@link UpdatePeer} changes. */
  enum PeerField {
    ENDPOINT,
    ALLOWED_IPS,
    KEEPALIVE
  }

  /** Configure a peer WireGuard does not have. */
  record AddPeer(WgPeer peer) implements Change {
    public AddPeer {
      Objects.requireNonNull(peer, "peer");
    }
  }

  /**
   * Reconfigure a peer. {@code fields} says what differs; the endpoint is written only when it is
   * among them, so a roamed endpoint survives an allowed-IPs change.
   */
  record UpdatePeer(WgPeer peer, Set<PeerField> fields) implements Change {
    public UpdatePeer {
      Objects.requireNonNull(peer, "peer");
      fields = Set.copyOf(fields);
      if (fields.isEmpty()) {
        throw new IllegalArgumentException("peer " + peer.publicKey() + ": update without fields");
      }
    }
  }

  /** Remove the peer with this public key. */
  record RemovePeer(String publicKey) implements Change {
    public RemovePeer {
      Objects.requireNonNull(publicKey, "publicKey");
    }
  }

  /** Route this network through the interface. */
  record AddRoute(Cidr destination) implements Change {
    public AddRoute {
      Objects.requireNonNull(destination, "destination");
    }
  }

  /** Stop routing this network through the interface. */
  record RemoveRoute(Cidr destination) implements Change {
    public RemoveRoute {
      Objects.requireNonNull(destination, "destination");
    }
  }
}
