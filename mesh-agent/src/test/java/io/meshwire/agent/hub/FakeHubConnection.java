package io.meshwire.agent.hub;

import io.grpc.Status;
import io.meshwire.agent.state.View;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * {@code FakeHubConnection} is a hub that answers from scripts, for the session, identity and
 * status tests: announce outcomes (an empty entry or none left: success), Watch ends (none left:
 * the hub ended the stream), renewals, and reports. Not thread-safe: one test thread drives it.
 */
public final class FakeHubConnection implements HubConnection {
  public final Deque<Optional<RuntimeException>> announceFailures = new ArrayDeque<>();
  public final Deque<HubClient.WatchEnd> watchEnds = new ArrayDeque<>();
  public final List<ClusterRecord> announced = new ArrayList<>();
  public final List<ReportStatusRequest> reports = new ArrayList<>();
  public final List<TlsCredentials> usedCredentials = new ArrayList<>();
  public Runnable onWatch = () -> { };
  public Function<SpiffeId, TlsCredentials> renewer = id -> {
    throw new UnsupportedOperationException("no renewal scripted");
  };
  public RuntimeException reportFailure;
  public boolean catchUpOnWatch;
  public int announceCalls;
  public int watches;
  public boolean closed;

  @Override
  public long announce(ClusterRecord record) {
    announceCalls++;
    Optional<RuntimeException> failure = announceFailures.poll();
    if (failure != null && failure.isPresent()) {
      throw failure.get();
    }
    announced.add(record);
    return announced.size();
  }

  @Override
  public CompletableFuture<HubClient.WatchEnd> watch(long sinceRevision, String meshUid, HubEvents events) {
    watches++;
    onWatch.run();
    if (catchUpOnWatch) {
      events.hello("mesh-1", 1, false);
      events.caughtUp(1);
    }
    HubClient.WatchEnd end = watchEnds.poll();
    return CompletableFuture.completedFuture(end != null ? end
        : new HubClient.WatchEnd(Status.UNAVAILABLE.withDescription("hub ended the stream"), Optional.empty()));
  }

  @Override
  public long publishViews(List<View> views, List<String> withdrawn) {
    return 0;
  }

  @Override
  public void reportStatus(ReportStatusRequest report) {
    if (reportFailure != null) {
      throw reportFailure;
    }
    reports.add(report);
  }

  @Override
  public TlsCredentials renew(SpiffeId self) {
    return renewer.apply(self);
  }

  @Override
  public void useCredentials(TlsCredentials renewed) {
    usedCredentials.add(renewed);
  }

  @Override
  public void rotate() { }

  @Override
  public HostPort currentHub() {
    return new HostPort("127.0.0.1", 7443);
  }

  @Override
  public void close() {
    closed = true;
  }
}
