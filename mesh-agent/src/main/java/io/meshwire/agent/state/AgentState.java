package io.meshwire.agent.state;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code AgentState} is everything the agent keeps across restarts so that the data plane can be
 * rebuilt with the hub down: the hub log it follows and where it stands in it, its own WireGuard
 * key and announce generation, every peer, and the remapping views in both directions.
 * Immutable; changes make a new value.
 *
 * @param meshUid the hub log's UID, empty before the first Watch
 * @param revision the hub revision to resume Watch from
 * @param ownGeneration generation of the agent's last announce; the next one must be greater
 * @param wireguardPrivateKey base64; never leaves the cluster
 * @param peers by cluster ID
 * @param viewsOfMe how other clusters see this one, by observer
 * @param myViews how this cluster sees others, by subject
 */
public record AgentState(
    String meshUid,
    long revision,
    long ownGeneration,
    String wireguardPrivateKey,
    Map<String, PeerRecord> peers,
    Map<String, View> viewsOfMe,
    Map<String, View> myViews,
    Instant writtenAt) {

  public AgentState {
    peers = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(peers));
    viewsOfMe = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(viewsOfMe));
    myViews = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(myViews));
  }

  /** A fresh state for a new agent with its WireGuard private key. */
  public static AgentState initial(String wireguardPrivateKey) {
    return new AgentState("", 0, 0, wireguardPrivateKey, Map.of(), Map.of(), Map.of(), Instant.EPOCH);
  }

  public AgentState withPeers(Map<String, PeerRecord> newPeers) {
    return new AgentState(meshUid, revision, ownGeneration, wireguardPrivateKey, newPeers, viewsOfMe, myViews,
        writtenAt);
  }

  public AgentState withViewsOfMe(Map<String, View> views) {
    return new AgentState(meshUid, revision, ownGeneration, wireguardPrivateKey, peers, views, myViews, writtenAt);
  }

  public AgentState withMyViews(Map<String, View> views) {
    return new AgentState(meshUid, revision, ownGeneration, wireguardPrivateKey, peers, viewsOfMe, views, writtenAt);
  }

  public AgentState atRevision(String newMeshUid, long newRevision) {
    return new AgentState(newMeshUid, newRevision, ownGeneration, wireguardPrivateKey, peers, viewsOfMe, myViews,
        writtenAt);
  }

  public AgentState withOwnGeneration(long generation) {
    return new AgentState(meshUid, revision, generation, wireguardPrivateKey, peers, viewsOfMe, myViews, writtenAt);
  }

  public AgentState writtenAt(Instant at) {
    return new AgentState(meshUid, revision, ownGeneration, wireguardPrivateKey, peers, viewsOfMe, myViews, at);
  }
}
