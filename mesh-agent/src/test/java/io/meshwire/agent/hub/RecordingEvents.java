package io.meshwire.agent.hub;

import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * {@code RecordingEvents} records every Watch event it sees (as small records) and hands it on to
 * a delegate, usually a {@code MeshSync}. Thread-safe: written by the stream, read by the test.
 */
final class RecordingEvents implements HubEvents {

  /** One recorded call. */
  sealed interface Seen {}

  record Hello(String meshUid, long headRevision, boolean snapshotFollows) implements Seen {}

  record Snapshot(long revision, Set<String> clusterIds, int views) implements Seen {}

  record Upserted(long revision, String clusterId, long generation) implements Seen {}

  record Removed(long revision, String clusterId, boolean revoked) implements Seen {}

  record ViewUpdated(long revision, View view) implements Seen {}

  record ViewRemoved(long revision, String observer, String subject) implements Seen {}

  record CaughtUp(long revision) implements Seen {}

  record Bookmark(long revision) implements Seen {}

  record Malformed(long revision, String problem) implements Seen {}

  record Relays(List<io.meshwire.netaddr.HostPort> relays) implements Seen {}

  private final HubEvents delegate;
  final List<Seen> seen = new CopyOnWriteArrayList<>();

  RecordingEvents(HubEvents delegate) {
    this.delegate = delegate;
  }

  <T extends Seen> List<T> of(Class<T> kind) {
    return seen.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  Hello hello() {
    return of(Hello.class).getFirst();
  }

  boolean caughtUp() {
    return !of(CaughtUp.class).isEmpty();
  }

  @Override
  public void hello(String meshUid, long headRevision, boolean snapshotFollows) {
    seen.add(new Hello(meshUid, headRevision, snapshotFollows));
    delegate.hello(meshUid, headRevision, snapshotFollows);
  }

  @Override
  public void snapshot(long revision, List<PeerRecord> clusters, List<View> views) {
    seen.add(new Snapshot(revision, clusters.stream().map(PeerRecord::clusterId).collect(Collectors.toSet()),
        views.size()));
    delegate.snapshot(revision, clusters, views);
  }

  @Override
  public void upserted(long revision, PeerRecord record) {
    seen.add(new Upserted(revision, record.clusterId(), record.generation()));
    delegate.upserted(revision, record);
  }

  @Override
  public void removed(long revision, String clusterId, boolean revoked) {
    seen.add(new Removed(revision, clusterId, revoked));
    delegate.removed(revision, clusterId, revoked);
  }

  @Override
  public void viewUpdated(long revision, View view) {
    seen.add(new ViewUpdated(revision, view));
    delegate.viewUpdated(revision, view);
  }

  @Override
  public void viewRemoved(long revision, String observerClusterId, String subjectClusterId) {
    seen.add(new ViewRemoved(revision, observerClusterId, subjectClusterId));
    delegate.viewRemoved(revision, observerClusterId, subjectClusterId);
  }

  @Override
  public void caughtUp(long revision) {
    seen.add(new CaughtUp(revision));
    delegate.caughtUp(revision);
  }

  @Override
  public void bookmark(long revision) {
    seen.add(new Bookmark(revision));
    delegate.bookmark(revision);
  }

  @Override
  public void malformed(long revision, String problem) {
    seen.add(new Malformed(revision, problem));
    delegate.malformed(revision, problem);
  }

  @Override
  public void relays(List<io.meshwire.netaddr.HostPort> relays) {
    seen.add(new Relays(relays));
    delegate.relays(relays);
  }
}
