package io.meshwire.agent.ipam;

import io.meshwire.agent.state.View;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code PeerDecision} is the IPAM's outcome for one peer, the per-peer status condition shown in
 * the agent's status: seen as itself, remapped, or left out because no pool had room. Immutable.
 */
public sealed interface PeerDecision {

  /** A short condition name for status output: {@code SEEN_AS_ITSELF}, {@code REMAPPED}, {@code POOL_EXHAUSTED}. */
  String condition();

  /** One line for status and logs. */
  String describe();

  /** Every pod CIDR of the peer is seen as itself: no NAT, AllowedIPs are its own CIDRs. */
  record SeenAsItself() implements PeerDecision {
    @Override
    public String condition() {
      return "SEEN_AS_ITSELF";
    }

    @Override
    public String describe() {
      return "pod CIDRs seen as themselves";
    }
  }

  /** At least one pod CIDR of the peer is seen as another block of the same size. */
  record Remapped(List<View.Mapping> mappings) implements PeerDecision {
    public Remapped {
      mappings = List.copyOf(mappings);
    }

    @Override
    public String condition() {
      return "REMAPPED";
    }

    @Override
    public String describe() {
      return mappings.stream().filter(m -> !m.original().equals(m.seenAs()))
          .map(m -> m.original() + " seen as " + m.seenAs()).collect(Collectors.joining(", "));
    }
  }

  /**
   * A pod CIDR of the peer overlaps something here and no pool had a free block of its size: the
   * peer has no view and gets no AllowedIPs until room appears (a peer leaves, pools grow).
   */
  record Exhausted(String reason) implements PeerDecision {
    @Override
    public String condition() {
      return "POOL_EXHAUSTED";
    }

    @Override
    public String describe() {
      return reason;
    }
  }
}
