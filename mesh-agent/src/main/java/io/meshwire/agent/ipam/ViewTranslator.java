package io.meshwire.agent.ipam;

import io.meshwire.agent.state.AgentState;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import io.meshwire.netaddr.Cidr;
import io.meshwire.netaddr.Translation;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ViewTranslator} turns a peer's pod address into the address this cluster reaches it at
 * ({@code myViews}), and back; and this cluster's pod address into the one a peer sees
 * ({@code viewsOfMe}). Reflection uses it to rewrite imported endpoints. A snapshot of one state:
 * immutable and thread-safe; make a new one when the state changes.
 *
 * <p>A peer without a view in {@code myViews} is not reachable (the IPAM found no room for it,
 * or has not decided yet), and an address outside the peer's pod CIDRs is not carried by the
 * tunnel: both translate to empty.
 */
public final class ViewTranslator {

  private final String self;
  private final List<Cidr> ownPodCidrs;
  private final Map<String, PeerRecord> peers;
  private final Map<String, View> myViews;
  private final Map<String, View> viewsOfMe;

  private ViewTranslator(String self, List<Cidr> ownPodCidrs, AgentState state) {
    this.self = self;
    this.ownPodCidrs = List.copyOf(ownPodCidrs);
    this.peers = state.peers();
    this.myViews = state.myViews();
    this.viewsOfMe = state.viewsOfMe();
  }

  /** A translator over {@code state}'s views, for cluster {@code self} with {@code ownPodCidrs}. */
  public static ViewTranslator of(String self, List<Cidr> ownPodCidrs, AgentState state) {
    return new ViewTranslator(self, ownPodCidrs, state);
  }

  /** The address this cluster reaches {@code peer}'s pod at {@code podAddress} at. */
  public Optional<InetAddress> toLocal(String peer, InetAddress podAddress) {
    PeerRecord record = peers.get(peer);
    View view = myViews.get(peer);
    if (record == null || view == null) {
      return Optional.empty();
    }
    return record.podCidrs().stream().filter(c -> c.contains(podAddress)).findFirst()
        .map(c -> new Translation(c, view.seenAs(c)).forward(podAddress));
  }

  /** The pod address at {@code peer} that this cluster reaches at {@code localAddress}. */
  public Optional<InetAddress> toPeer(String peer, InetAddress localAddress) {
    PeerRecord record = peers.get(peer);
    View view = myViews.get(peer);
    if (record == null || view == null) {
      return Optional.empty();
    }
    return record.podCidrs().stream().filter(c -> view.seenAs(c).contains(localAddress)).findFirst()
        .map(c -> new Translation(c, view.seenAs(c)).reverse(localAddress));
  }

  /**
   * How {@code peer} sees this cluster's pod at {@code ownAddress}: the source address its pods
   * get from us. Empty outside this cluster's pod CIDRs.
   */
  public Optional<InetAddress> asSeenBy(String peer, InetAddress ownAddress) {
    View view = viewsOfMe.get(peer);
    return ownPodCidrs.stream().filter(c -> c.contains(ownAddress)).findFirst()
        .map(c -> view == null || !view.subjectClusterId().equals(self) ? ownAddress
            : new Translation(c, view.seenAs(c)).forward(ownAddress));
  }
}
