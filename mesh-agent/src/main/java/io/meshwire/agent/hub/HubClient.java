package io.meshwire.agent.hub;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.meshwire.agent.state.PeerRecord;
import io.meshwire.agent.state.View;
import io.meshwire.agent.wire.AgentProtoMapper;
import io.meshwire.certs.Pem;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.HubChannels;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.enrollment.v1.EnrollRequest;
import io.meshwire.proto.enrollment.v1.EnrollmentGrpc;
import io.meshwire.proto.enrollment.v1.IssuedCertificate;
import io.meshwire.proto.enrollment.v1.RenewRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.PublishViewsRequest;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code HubClient} speaks the rendezvous protocol to one of the hub addresses over mutual TLS,
 * authenticating the hub by its SPIFFE ID (role hub) rather than by host name. Addresses rotate as
 * {@link HubAddresses} says (every address of a DNS name, from a random start); on a transport
 * failure {@link #rotate()} moves to the next one. Calls block; run them on a
 * thread that may block (the agent uses virtual threads).
 *
 * <p>Thread-safety: the channel reference is swapped under this object's lock; calls may run
 * concurrently.
 */
public final class HubClient implements HubConnection {

  private static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

  private final HubAddresses hubs;
  private final InstantSource clock;
  // @GuardedBy("this")
  private TlsCredentials credentials;
  // @GuardedBy("this")
  private io.netty.handler.ssl.SslContext tls; // kept across reconnects: it holds the session to resume
  // @GuardedBy("this")
  private ManagedChannel channel;
  // @GuardedBy("this")
  private HostPort current;

  public HubClient(List<HostPort> hubs, TlsCredentials credentials, InstantSource clock) {
    this(HubAddresses.of(hubs), credentials, clock);
  }

  public HubClient(HubAddresses hubs, TlsCredentials credentials, InstantSource clock) {
    this.hubs = hubs;
    this.credentials = credentials;
    this.clock = clock;
  }

  /**
   * Enrolls with a join token over server-authenticated TLS (no client certificate yet): the key
   * pair is made here and only the CSR leaves. Tries each hub address once.
   */
  public static TlsCredentials enroll(List<HostPort> hubs, X509Certificate caCert, String mesh, String clusterId,
      String joinToken, InstantSource clock) {
    return enroll(HubAddresses.of(hubs), caCert, mesh, clusterId, joinToken, clock);
  }

  /** {@link #enroll(List, X509Certificate, String, String, String, InstantSource)} over {@code hubs}' rotation. */
  public static TlsCredentials enroll(HubAddresses hubs, X509Certificate caCert, String mesh, String clusterId,
      String joinToken, InstantSource clock) {
    KeyPair keys = io.meshwire.certs.Csrs.newKeyPair();
    byte[] csr = io.meshwire.certs.Csrs.create(keys, new SpiffeId(mesh, Role.CLUSTER, clusterId));
    StatusRuntimeException last = null;
    for (HostPort hub : hubs.round()) {
      ManagedChannel ch = HubChannels.open(hub, null, caCert, clock);
      try {
        IssuedCertificate issued = EnrollmentGrpc.newBlockingStub(ch)
            .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
            .enroll(EnrollRequest.newBuilder().setJoinToken(joinToken).setCsrDer(ByteString.copyFrom(csr)).build())
            .getCertificate();
        return credentialsOf(keys, issued);
      } catch (StatusRuntimeException e) {
        last = e;
        if (!HubErrors.isTransient(e)) {
          throw e; // a refused token or CSR will not get better at another hub
        }
      } finally {
        ch.shutdownNow();
      }
    }
    throw last;
  }

  private static TlsCredentials credentialsOf(KeyPair keys, IssuedCertificate issued) {
    List<X509Certificate> chain = new ArrayList<>();
    issued.getCertificateChainDerList().forEach(d -> chain.add(Pem.certificateFromDer(d.toByteArray(), "hub response")));
    List<X509Certificate> anchors = new ArrayList<>();
    issued.getCaBundleDerList().forEach(d -> anchors.add(Pem.certificateFromDer(d.toByteArray(), "hub response")));
    return new TlsCredentials(keys.getPrivate(), chain, anchors);
  }

  /** Renews the certificate with a new key pair; the caller persists and then {@link #useCredentials}. */
  @Override
  public TlsCredentials renew(SpiffeId self) {
    KeyPair keys = io.meshwire.certs.Csrs.newKeyPair();
    byte[] csr = io.meshwire.certs.Csrs.create(keys, self);
    IssuedCertificate issued = EnrollmentGrpc.newBlockingStub(channel())
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .renew(RenewRequest.newBuilder().setCsrDer(ByteString.copyFrom(csr)).build())
        .getCertificate();
    return credentialsOf(keys, issued);
  }

  /** Switches to new credentials; the next call reconnects with them. */
  @Override
  public synchronized void useCredentials(TlsCredentials renewed) {
    this.credentials = renewed;
    this.tls = null;
    closeChannel();
  }

  /** Announces the cluster's own record; returns the revision it was stored at. */
  @Override
  public long announce(ClusterRecord record) {
    return RendezvousGrpc.newBlockingStub(channel())
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .announce(AnnounceRequest.newBuilder().setRecord(record).build())
        .getRevision();
  }

  @Override
  public long publishViews(List<View> views, List<String> withdrawn) {
    PublishViewsRequest.Builder b = PublishViewsRequest.newBuilder().addAllWithdrawnSubjectClusterIds(withdrawn);
    views.forEach(v -> b.addViews(AgentProtoMapper.toProto(v)));
    return RendezvousGrpc.newBlockingStub(channel())
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .publishViews(b.build())
        .getRevision();
  }

  @Override
  public void reportStatus(ReportStatusRequest report) {
    RendezvousGrpc.newBlockingStub(channel())
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .reportStatus(report);
  }

  /** How a Watch stream ended: its status and the hub's back-off hint, if it gave one. */
  public record WatchEnd(Status status, java.util.Optional<Duration> retryAfter) {}

  /**
   * Runs one Watch stream to its end, delivering events to {@code events} in order. A snapshot
   * with a malformed record is reported through {@link HubEvents#malformed} and ends the stream
   * ({@code INTERNAL}): it cannot be applied in part, and only a new stream brings it again.
   *
   * @return completes when the stream ends (never exceptionally unless the caller cancels it,
   *     which also cancels the stream)
   */
  @Override
  public CompletableFuture<WatchEnd> watch(long sinceRevision, String meshUid, HubEvents events) {
    CompletableFuture<WatchEnd> ended = new CompletableFuture<>();
    SnapshotAssembler assembler = new SnapshotAssembler(events, problem -> ended.complete(
        new WatchEnd(Status.INTERNAL.withDescription(problem), java.util.Optional.empty())));
    RendezvousGrpc.newStub(channel()).watch(
        WatchRequest.newBuilder().setSinceRevision(sinceRevision).setMeshUid(meshUid).build(),
        new ClientResponseObserver<WatchRequest, WatchEvent>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
            ended.whenComplete((s, t) -> stream.cancel("watch ended", null));
          }

          @Override
          public void onNext(WatchEvent event) {
            if (!ended.isDone()) {
              assembler.accept(event);
            }
          }

          @Override
          public void onError(Throwable t) {
            ended.complete(new WatchEnd(Status.fromThrowable(t), HubErrors.retryAfter(t)));
          }

          @Override
          public void onCompleted() {
            ended.complete(new WatchEnd(Status.UNAVAILABLE.withDescription("hub ended the stream"),
                java.util.Optional.empty()));
          }
        });
    return ended;
  }

  /** Moves to the next hub address (after a transport failure). */
  @Override
  public synchronized void rotate() {
    closeChannel();
  }

  @Override
  public synchronized HostPort currentHub() {
    return current;
  }

  private synchronized ManagedChannel channel() {
    if (channel == null) {
      current = hubs.next();
      if (tls == null) {
        tls = HubChannels.tls(credentials, credentials.trustAnchors().get(0), clock);
      }
      channel = HubChannels.open(current, tls);
    }
    return channel;
  }

  private void closeChannel() {
    if (channel != null) {
      channel.shutdownNow();
      channel = null;
    }
  }

  @Override
  public synchronized void close() {
    closeChannel();
  }

  /**
   * Collects snapshot chunks and converts every event to domain types before handing it on. Runs
   * on the stream's callback thread (one at a time).
   */
  private static final class SnapshotAssembler {
    private final HubEvents events;
    private final java.util.function.Consumer<String> snapshotDropped;
    private List<PeerRecord> clusters;
    private List<View> views;
    private boolean broken;

    SnapshotAssembler(HubEvents events, java.util.function.Consumer<String> snapshotDropped) {
      this.events = events;
      this.snapshotDropped = snapshotDropped;
    }

    void accept(WatchEvent e) {
      long revision = e.getRevision();
      try {
        switch (e.getEventCase()) {
          case HELLO -> {
            clusters = null;
            broken = false;
            events.hello(e.getHello().getMeshUid(), e.getHello().getHeadRevision(), e.getHello().getSnapshotFollows());
            List<io.meshwire.netaddr.HostPort> relays = new ArrayList<>();
            for (int i = 0; i < e.getHello().getRelaysCount() && i < 64; i++) {
              try {
                relays.add(io.meshwire.netaddr.HostPort.parse(e.getHello().getRelays(i)));
              } catch (IllegalArgumentException bad) {
                events.malformed(revision, "hello.relays[" + i + "] " + bad.getMessage());
              }
            }
            events.relays(relays);
          }
          case SNAPSHOT -> {
            if (broken) {
              broken = !e.getSnapshot().getLast(); // skip the rest of a snapshot that had a bad chunk
              return;
            }
            if (clusters == null) {
              clusters = new ArrayList<>();
              views = new ArrayList<>();
            }
            for (ClusterRecord r : e.getSnapshot().getClustersList()) {
              clusters.add(AgentProtoMapper.fromProto(r));
            }
            e.getSnapshot().getViewsList().forEach(v -> views.add(AgentProtoMapper.fromProto(v)));
            if (e.getSnapshot().getLast()) {
              events.snapshot(revision, clusters, views);
              clusters = null;
            }
          }
          case CLUSTER_UPSERTED -> events.upserted(revision, AgentProtoMapper.fromProto(e.getClusterUpserted().getRecord()));
          case CLUSTER_REMOVED -> events.removed(revision, e.getClusterRemoved().getClusterId(),
              e.getClusterRemoved().getReason() == io.meshwire.proto.rendezvous.v1.RemovalReason.REMOVAL_REASON_REVOKED);
          case PEERS_CHANGED -> {
            List<PeerRecord> upserted = new ArrayList<>();
            for (ClusterRecord r : e.getPeersChanged().getUpsertedList()) {
              upserted.add(AgentProtoMapper.fromProto(r));
            }
            events.peersChanged(revision, upserted, e.getPeersChanged().getRemovedList());
          }
          case VIEW_UPDATED -> events.viewUpdated(revision, AgentProtoMapper.fromProto(e.getViewUpdated().getView()));
          case VIEW_REMOVED -> events.viewRemoved(revision, e.getViewRemoved().getObserverClusterId(),
              e.getViewRemoved().getSubjectClusterId());
          case CAUGHT_UP -> events.caughtUp(revision);
          case BOOKMARK -> events.bookmark(revision);
          case GOAWAY, PEERING_CHANGED, EVENT_NOT_SET -> { } // peering_changed: the hub's store only
        }
      } catch (IllegalArgumentException bad) {
        if (e.hasSnapshot()) {
          // A snapshot with a bad record is dropped whole, never half-applied.
          clusters = null;
          broken = !e.getSnapshot().getLast();
        }
        events.malformed(revision, bad.getMessage());
        if (e.hasSnapshot()) {
          snapshotDropped.accept("snapshot at revision " + revision + " dropped: " + bad.getMessage());
        }
      }
    }
  }
}
