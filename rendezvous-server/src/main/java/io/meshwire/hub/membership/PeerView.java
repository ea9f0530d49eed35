package io.meshwire.hub.membership;

import io.meshwire.netaddr.Cidr;
import java.util.List;

/**
 * {@code PeerView} is how the observer cluster sees the subject's pod CIDRs. Decided by the
 * observer, delivered by the hub to the subject only. Immutable.
 */
public record PeerView(String observerClusterId, String subjectClusterId, List<Mapping> mappings, long generation) {

  public PeerView {
    mappings = List.copyOf(mappings);
  }

  /** Addresses of {@code original} are seen as {@code seenAs} (same prefix length and family). */
  public record Mapping(Cidr original, Cidr seenAs) {}

  /** Key of a view: one per ordered (observer, subject) pair. */
  public record Key(String observerClusterId, String subjectClusterId) {}

  public Key key() {
    return new Key(observerClusterId, subjectClusterId);
  }
}
