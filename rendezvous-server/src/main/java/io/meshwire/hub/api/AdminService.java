package io.meshwire.hub.api;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.meshwire.certs.TokenStore;
import io.meshwire.certs.Revocations;
import io.meshwire.certs.Role;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.TokenInfo;
import io.meshwire.hub.auth.Caller;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.MembershipEvent.RemovalReason;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.watch.WatchHub;
import io.meshwire.hub.watch.WatchSink;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.hub.wire.Statuses;
import io.meshwire.netaddr.Quote;
import io.meshwire.proto.admin.v1.AuditEvent;
import io.meshwire.proto.admin.v1.Cluster;
import io.meshwire.proto.admin.v1.CreateJoinTokenRequest;
import io.meshwire.proto.admin.v1.CreateJoinTokenResponse;
import io.meshwire.proto.admin.v1.GetClusterRequest;
import io.meshwire.proto.admin.v1.GetMeshStatusRequest;
import io.meshwire.proto.admin.v1.JoinTokenInfo;
import io.meshwire.proto.admin.v1.JoinTokenState;
import io.meshwire.proto.admin.v1.LinkStatus;
import io.meshwire.proto.admin.v1.ListClustersRequest;
import io.meshwire.proto.admin.v1.ListClustersResponse;
import io.meshwire.proto.admin.v1.ListJoinTokensRequest;
import io.meshwire.proto.admin.v1.ListJoinTokensResponse;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import io.meshwire.proto.admin.v1.MeshStatus;
import io.meshwire.proto.admin.v1.RemoveClusterRequest;
import io.meshwire.proto.admin.v1.RemoveClusterResponse;
import io.meshwire.proto.admin.v1.RevokeClusterRequest;
import io.meshwire.proto.admin.v1.RevokeClusterResponse;
import io.meshwire.proto.admin.v1.RevokeJoinTokenRequest;
import io.meshwire.proto.admin.v1.RevokeJoinTokenResponse;
import io.meshwire.proto.admin.v1.WatchAuditRequest;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code AdminService} is the operators' API (admin certificates only). Revocation is the one
 * call with several effects, in this order: the revocation is persisted (so the certificate is
 * refused from the next call on), the cluster's open streams are closed, its active join tokens
 * are revoked, and its record is removed with reason REVOKED for every other watcher.
 */
public final class AdminService extends MeshAdminGrpc.MeshAdminImplBase {

  static final Duration DEFAULT_TTL = Duration.ofHours(1);
  static final Duration MIN_TTL = Duration.ofMinutes(1);
  static final Duration MAX_TTL = Duration.ofDays(7);

  private final String mesh;
  private final Membership membership;
  private final WatchHub watches;
  private final TokenStore tokens;
  private final Revocations revocations;
  private final LinkReports reports;
  private final AuditLog audit;
  private final Map<String, Instant> lastSeen;
  private final InstantSource clock;

  AdminService(String mesh, Membership membership, WatchHub watches, TokenStore tokens,
      Revocations revocations, LinkReports reports, AuditLog audit, Map<String, Instant> lastSeen,
      InstantSource clock) {
    this.mesh = mesh;
    this.membership = membership;
    this.watches = watches;
    this.tokens = tokens;
    this.revocations = revocations;
    this.reports = reports;
    this.audit = audit;
    this.lastSeen = lastSeen;
    this.clock = clock;
  }

  @Override
  public void listClusters(ListClustersRequest request, StreamObserver<ListClustersResponse> response) {
    Set<String> connected = watches.connectedClusters();
    ListClustersResponse.Builder b = ListClustersResponse.newBuilder()
        .setRevision(membership.durableRevision())
        .setMeshUid(membership.meshUid());
    membership.clusters().forEach(r -> b.addClusters(cluster(r, connected)));
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void getCluster(GetClusterRequest request, StreamObserver<Cluster> response) {
    try {
      String id = ProtoMapper.clusterId("cluster_id", request.getClusterId());
      ClusterRecord r = membership.cluster(id).orElseThrow(
          () -> new Rejection(Rejection.Kind.NOT_FOUND, "cluster_id: \"" + id + "\" has no record"));
      response.onNext(cluster(r, watches.connectedClusters()));
      response.onCompleted();
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void removeCluster(RemoveClusterRequest request, StreamObserver<RemoveClusterResponse> response) {
    String actor = Caller.current().label();
    try {
      String id = ProtoMapper.clusterId("cluster_id", request.getClusterId());
      membership.remove(id, RemovalReason.REMOVED).whenComplete((revision, failure) -> {
        if (failure != null) {
          response.onError(Statuses.internal("store", failure));
          return;
        }
        reports.remove(id);
        audit.record(actor, "cluster.removed", id, "revision " + revision);
        response.onNext(RemoveClusterResponse.newBuilder().setRevision(revision).build());
        response.onCompleted();
      });
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void revokeCluster(RevokeClusterRequest request, StreamObserver<RevokeClusterResponse> response) {
    String actor = Caller.current().label();
    try {
      String id = ProtoMapper.clusterId("cluster_id", request.getClusterId());
      if (request.getReason().length() > 256) {
        throw Rejection.invalid("reason", "longer than 256 characters");
      }
      revocations.revoke(new SpiffeId(mesh, Role.CLUSTER, id), clock.instant(), request.getReason());
      int closed = watches.closeCluster(id, new WatchSink.Failure(WatchSink.Failure.Kind.REVOKED,
          "certificate of cluster " + id + " revoked", Duration.ZERO));
      for (TokenInfo t : tokens.list()) {
        if (t.clusterId().equals(id) && t.state() == TokenInfo.State.ACTIVE) {
          tokens.revoke(t.tokenId());
        }
      }
      reports.remove(id);
      String detail = "reason " + Quote.of(request.getReason()) + ", streams closed " + closed;
      if (membership.cluster(id).isEmpty()) {
        audit.record(actor, "cluster.revoked", id, detail);
        response.onNext(RevokeClusterResponse.newBuilder().setRevision(membership.durableRevision()).build());
        response.onCompleted();
        return;
      }
      membership.remove(id, RemovalReason.REVOKED).whenComplete((revision, failure) -> {
        if (failure != null) {
          response.onError(Statuses.internal("store", failure));
          return;
        }
        audit.record(actor, "cluster.revoked", id, detail + ", revision " + revision);
        response.onNext(RevokeClusterResponse.newBuilder().setRevision(revision).build());
        response.onCompleted();
      });
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void createJoinToken(CreateJoinTokenRequest request, StreamObserver<CreateJoinTokenResponse> response) {
    try {
      String id = ProtoMapper.clusterId("cluster_id", request.getClusterId());
      com.google.protobuf.Duration asked = request.getTtl();
      if (request.hasTtl() && (asked.getSeconds() < 0 || asked.getSeconds() > MAX_TTL.getSeconds()
          || asked.getNanos() < 0 || asked.getNanos() > 999_999_999)) {
        // Checked before building a Duration: an out-of-range pair would overflow, not compare.
        throw Rejection.invalid("ttl", asked.getSeconds() + "s " + asked.getNanos() + "ns out of range " + MIN_TTL
            + ".." + MAX_TTL);
      }
      Duration ttl = request.hasTtl() ? Duration.ofSeconds(asked.getSeconds(), asked.getNanos()) : DEFAULT_TTL;
      if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
        throw Rejection.invalid("ttl", ttl + " out of range " + MIN_TTL + ".." + MAX_TTL);
      }
      var created = tokens.create(id, ttl);
      audit.record(Caller.current().label(), "token.created", created.info().tokenId(),
          "cluster " + id + ", expires " + created.info().expiresAt());
      response.onNext(CreateJoinTokenResponse.newBuilder()
          .setToken(created.token())
          .setInfo(token(created.info()))
          .build());
      response.onCompleted();
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void listJoinTokens(ListJoinTokensRequest request, StreamObserver<ListJoinTokensResponse> response) {
    ListJoinTokensResponse.Builder b = ListJoinTokensResponse.newBuilder();
    tokens.list().forEach(t -> b.addTokens(token(t)));
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void revokeJoinToken(RevokeJoinTokenRequest request, StreamObserver<RevokeJoinTokenResponse> response) {
    try {
      tokens.revoke(request.getTokenId());
      audit.record(Caller.current().label(), "token.revoked", request.getTokenId(), "");
      response.onNext(RevokeJoinTokenResponse.getDefaultInstance());
      response.onCompleted();
    } catch (NoSuchElementException e) {
      response.onError(Status.NOT_FOUND.withDescription("token_id: " + Quote.of(request.getTokenId()) + " is unknown")
          .asRuntimeException());
    }
  }

  @Override
  public void getMeshStatus(GetMeshStatusRequest request, StreamObserver<MeshStatus> response) {
    MeshStatus.Builder b = MeshStatus.newBuilder()
        .setRevision(membership.durableRevision())
        .setMeshUid(membership.meshUid())
        .setConnectedAgents(watches.watcherCount());
    reports.all().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e ->
        e.getValue().getPeersList().forEach(p -> b.addLinks(LinkStatus.newBuilder()
            .setFromClusterId(e.getKey())
            .setToClusterId(p.getPeerClusterId())
            .setStatus(p)
            .setObservedAt(e.getValue().getObservedAt()))));
    response.onNext(b.build());
    response.onCompleted();
  }

  /**
   * Sends kept events after {@code since_sequence}, then live ones. Audit volume is low (operator
   * actions), so writes ignore flow control; they are serialized on the stream.
   */
  @Override
  public void watchAudit(WatchAuditRequest request, StreamObserver<AuditEvent> response) {
    ServerCallStreamObserver<AuditEvent> stream = (ServerCallStreamObserver<AuditEvent>) response;
    Object writeLock = new Object();
    Consumer<AuditLog.Event> listener = e -> {
      synchronized (writeLock) {
        if (!stream.isCancelled()) {
          stream.onNext(auditEvent(e));
        }
      }
    };
    stream.setOnCancelHandler(() -> audit.unsubscribe(listener));
    synchronized (writeLock) {
      for (AuditLog.Event e : audit.subscribe(request.getSinceSequence(), listener)) {
        stream.onNext(auditEvent(e));
      }
    }
  }

  private Cluster cluster(ClusterRecord r, Set<String> connected) {
    Cluster.Builder b = Cluster.newBuilder()
        .setRecord(ProtoMapper.toProto(r))
        .setConnected(connected.contains(r.clusterId()))
        .setRevoked(revocations.isRevoked(new SpiffeId(mesh, Role.CLUSTER, r.clusterId())));
    Instant seen = lastSeen.get(r.clusterId());
    if (seen != null) {
      b.setLastSeen(ProtoMapper.timestamp(seen));
    }
    return b.build();
  }

  private static JoinTokenInfo token(TokenInfo t) {
    return JoinTokenInfo.newBuilder()
        .setTokenId(t.tokenId())
        .setClusterId(t.clusterId())
        .setCreatedAt(ProtoMapper.timestamp(t.createdAt()))
        .setExpiresAt(ProtoMapper.timestamp(t.expiresAt()))
        .setState(switch (t.state()) {
          case ACTIVE -> JoinTokenState.JOIN_TOKEN_STATE_ACTIVE;
          case USED -> JoinTokenState.JOIN_TOKEN_STATE_USED;
          case EXPIRED -> JoinTokenState.JOIN_TOKEN_STATE_EXPIRED;
          case REVOKED -> JoinTokenState.JOIN_TOKEN_STATE_REVOKED;
        })
        .build();
  }

  private static AuditEvent auditEvent(AuditLog.Event e) {
    return AuditEvent.newBuilder()
        .setSequence(e.sequence())
        .setTime(ProtoMapper.timestamp(e.time()))
        .setActor(e.actor())
        .setAction(e.action())
        .setSubject(e.subject())
        .setDetail(e.detail())
        .build();
  }
}
