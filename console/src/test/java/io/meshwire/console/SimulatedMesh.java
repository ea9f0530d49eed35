package io.meshwire.console;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.hub.HubFixture;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.LinkState;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code SimulatedMesh} plays the agents of a few clusters against a real hub in this process:
 * each is enrolled with a join token, announces its record, keeps a Watch stream open (so the hub
 * counts it connected) and reports its links, the calls a real agent makes. Not thread-safe: one
 * test thread drives it.
 */
final class SimulatedMesh implements AutoCloseable {

  private final HubFixture hub;
  private final Map<String, Member> members = new LinkedHashMap<>();

  private record Member(String id, ManagedChannel channel, ClientCallStreamObserver<WatchRequest> watch) {}

  SimulatedMesh(HubFixture hub) {
    this.hub = hub;
  }

  /** Enrolls, announces ({@code labels} added) and watches; {@code n} picks its addresses (10.n.0.0/16). */
  void join(String id, int n, Map<String, String> labels) {
    TlsCredentials creds = hub.enroll(id);
    ManagedChannel channel = hub.channel(creds);
    ClusterRecord record = HubFixture.record(id, n, 1).toBuilder().putAllLabels(labels).setAgentVersion("0.1.0").build();
    RendezvousGrpc.newBlockingStub(channel).announce(AnnounceRequest.newBuilder().setRecord(record).build());
    List<ClientCallStreamObserver<WatchRequest>> call = new ArrayList<>(1);
    RendezvousGrpc.newStub(channel).watch(WatchRequest.getDefaultInstance(),
        new ClientResponseObserver<WatchRequest, WatchEvent>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
            call.add(stream);
          }

          @Override
          public void onNext(WatchEvent value) {}

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    members.put(id, new Member(id, channel, call.get(0)));
  }

  /** {@code from} reports its tunnels: peer id -> up (true) or down (false). */
  void report(String from, Map<String, Boolean> peers) {
    Instant now = Instant.now();
    ReportStatusRequest.Builder r = ReportStatusRequest.newBuilder().setObservedAt(ts(now));
    int i = 0;
    for (var p : peers.entrySet()) {
      i++;
      PeerLinkStatus.Builder s = PeerLinkStatus.newBuilder()
          .setPeerClusterId(p.getKey())
          .setState(p.getValue() ? LinkState.LINK_STATE_UP : LinkState.LINK_STATE_DOWN)
          .setEndpoint("198.18.0." + (10 + i) + ":51820");
      if (p.getValue()) {
        s.setLatestHandshake(ts(now.minusSeconds(7 + i)))
            .setRxBytes(1_048_576L * (3 + i)).setTxBytes(524_288L * (5 + i))
            .setRtt(Duration.newBuilder().setNanos(1_200_000 + i * 350_000));
      }
      r.addPeers(s);
    }
    RendezvousGrpc.newBlockingStub(members.get(from).channel()).reportStatus(r.build());
  }

  private static Timestamp ts(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  @Override
  public void close() {
    members.values().forEach(m -> m.watch().cancel("test done", null));
    // channels belong to the hub fixture, which closes them
  }
}
