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
import io.meshwire.hub.policy.LabelSyntax;
import io.meshwire.hub.policy.Peering;
import io.meshwire.hub.policy.PeeringChange;
import io.meshwire.hub.policy.PeeringPolicy;
import io.meshwire.hub.watch.WatchHub;
import io.meshwire.hub.watch.WatchSink;
import io.meshwire.hub.wire.PolicyMapper;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.hub.wire.Statuses;
import io.meshwire.proto.admin.v1.ApplyPolicyRequest;
import io.meshwire.proto.admin.v1.ApplyPolicyResponse;
import io.meshwire.proto.admin.v1.DeletePolicyRequest;
import io.meshwire.proto.admin.v1.DeletePolicyResponse;
import io.meshwire.proto.admin.v1.ExplainPeeringRequest;
import io.meshwire.proto.admin.v1.ExplainPeeringResponse;
import io.meshwire.proto.admin.v1.GetPolicyRequest;
import io.meshwire.proto.admin.v1.ListPoliciesRequest;
import io.meshwire.proto.admin.v1.ListPoliciesResponse;
import io.meshwire.proto.admin.v1.SetClusterLabelsRequest;
import io.meshwire.proto.admin.v1.SetClusterLabelsResponse;
import io.meshwire.proto.rendezvous.v1.PeerLinkStatus;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
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
import io.meshwire.proto.admin.v1.ListRevocationsRequest;
import io.meshwire.proto.admin.v1.ListRevocationsResponse;
import io.meshwire.proto.admin.v1.Revocation;
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
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * {@code AdminService} is the operators' API (admin certificates only). Revocation is the one
 * call with several effects, in this order: the revocation is persisted (so the certificate is
 * refused from the next call on), the cluster's open streams are closed, its active join tokens
 * are revoked, and its record is removed with reason REVOKED for every other watcher.
 */
final class AdminService extends MeshAdminGrpc.MeshAdminImplBase {

  static final Duration DEFAULT_TTL = Duration.ofHours(1);
  static final Duration MIN_TTL = Duration.ofMinutes(1);
  static final Duration MAX_TTL = Duration.ofDays(7);

  private final String mesh;
  private final Membership membership;
  private final WatchHub watches;
  private final TokenStore tokens;
  private final Revocations revocations;
  private final AuditLog audit;
  private final Presence presence;
  private final InstantSource clock;

  AdminService(String mesh, Membership membership, WatchHub watches, TokenStore tokens,
      Revocations revocations, Presence presence, AuditLog audit,
      InstantSource clock) {
    this.mesh = mesh;
    this.membership = membership;
    this.watches = watches;
    this.tokens = tokens;
    this.revocations = revocations;
    this.audit = audit;
    this.presence = presence;
    this.clock = clock;
  }

  @Override
  public void listClusters(ListClustersRequest request, StreamObserver<ListClustersResponse> response) {
    Set<String> connected = watches.connectedClusters();
    ListClustersResponse.Builder b = ListClustersResponse.newBuilder()
        .setRevision(membership.durableRevision())
        .setMeshUid(membership.meshUid());
    Map<String, Instant> seen = presence.lastSeen();
    membership.clusters().forEach(r -> b.addClusters(cluster(r, connected, seen)));
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void getCluster(GetClusterRequest request, StreamObserver<Cluster> response) {
    try {
      String id = ProtoMapper.clusterId("cluster_id", request.getClusterId());
      ClusterRecord r = membership.cluster(id).orElseThrow(
          () -> new Rejection(Rejection.Kind.NOT_FOUND, "cluster_id: \"" + id + "\" has no record"));
      response.onNext(cluster(r, watches.connectedClusters(), presence.lastSeen()));
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
        presence.forget(id);
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
      presence.forget(id);
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
  public void listRevocations(ListRevocationsRequest request, StreamObserver<ListRevocationsResponse> response) {
    ListRevocationsResponse.Builder b = ListRevocationsResponse.newBuilder();
    revocations.entries().forEach(e -> b.addRevocations(Revocation.newBuilder().setSpiffeId(e.id().uri())
        .setRevokedBefore(ProtoMapper.timestamp(e.at())).setReason(e.reason())));
    response.onNext(b.build());
    response.onCompleted();
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
      PeeringChange.SetLabels labels = request.getLabelsCount() == 0 ? null
          : PolicyMapper.setLabels("cluster_id", id, "labels", request.getLabelsMap());
      String actor = Caller.current().label();
      // Labels first: a store that cannot keep them refuses before a token exists.
      CompletableFuture<Membership.PeeringResult> labelled = labels == null
          ? CompletableFuture.completedFuture(null) : membership.changePeering(labels, false);
      labelled.whenComplete((result, failure) -> {
        if (failure != null) {
          response.onError(Statuses.internal("store", failure));
          return;
        }
        if (result != null && !result.unchanged()) {
          audit.record(actor, "cluster.labelled", id, labels(labels.labels(), result));
        }
        io.meshwire.certs.CreatedToken created;
        try {
          created = tokens.create(id, ttl);
        } catch (RuntimeException e) { // the store failed (etcd unavailable): the caller must hear of it
          response.onError(Statuses.internal("store", e));
          return;
        }
        audit.record(actor, "token.created", created.info().tokenId(),
            "cluster " + id + ", expires " + created.info().expiresAt());
        response.onNext(CreateJoinTokenResponse.newBuilder()
            .setToken(created.token())
            .setInfo(token(created.info()))
            .build());
        response.onCompleted();
      });
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
    presence.reports().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e ->
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

  @Override
  public void setClusterLabels(SetClusterLabelsRequest request, StreamObserver<SetClusterLabelsResponse> response) {
    try {
      String id = ProtoMapper.clusterId("cluster_id", request.getClusterId());
      Map<String, String> current = membership.peering().rules().labelsOf(id);
      if (current.isEmpty() && membership.cluster(id).isEmpty()
          && tokens.list().stream().noneMatch(t -> t.clusterId().equals(id))) {
        throw new Rejection(Rejection.Kind.NOT_FOUND, "cluster_id: \"" + id
            + "\" has no record, no labels and no join token");
      }
      Map<String, String> next = new TreeMap<>(current);
      LabelSyntax.labels("set", request.getSetMap());
      next.putAll(request.getSetMap());
      for (int i = 0; i < request.getRemoveCount(); i++) {
        String key = LabelSyntax.key("remove[" + i + "]", request.getRemove(i));
        if (request.getSetMap().containsKey(key)) {
          throw Rejection.invalid("remove[" + i + "]", "\"" + key + "\" is also set in the same request");
        }
        next.remove(key);
      }
      PeeringChange.SetLabels change = PolicyMapper.setLabels("cluster_id", id, "labels", next);
      String actor = Caller.current().label();
      membership.changePeering(change, request.getForce()).whenComplete((result, failure) -> {
        if (failure != null) {
          response.onError(Statuses.internal("store", failure));
          return;
        }
        if (!result.unchanged()) {
          audit.record(actor, "cluster.labelled", id, labels(change.labels(), result));
        }
        response.onNext(SetClusterLabelsResponse.newBuilder().setRevision(result.revision())
            .putAllLabels(change.labels()).setAffectedAgents(result.affectedAgents()).build());
        response.onCompleted();
      });
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void applyPolicy(ApplyPolicyRequest request, StreamObserver<ApplyPolicyResponse> response) {
    try {
      PeeringPolicy policy = PolicyMapper.fromProto("policy", request.getPolicy());
      String actor = Caller.current().label();
      membership.changePeering(new PeeringChange.ApplyPolicy(policy), request.getForce())
          .whenComplete((result, failure) -> {
            if (failure != null) {
              response.onError(Statuses.internal("store", failure));
              return;
            }
            if (!result.unchanged()) {
              audit.record(actor, "policy.applied", policy.name(), policy.mode().spelling() + ", revision "
                  + result.revision() + ", agents changed " + result.affectedAgents());
            }
            response.onNext(ApplyPolicyResponse.newBuilder().setRevision(result.revision())
                .setUnchanged(result.unchanged()).setAffectedAgents(result.affectedAgents()).build());
            response.onCompleted();
          });
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void listPolicies(ListPoliciesRequest request, StreamObserver<ListPoliciesResponse> response) {
    Peering peering = membership.peering();
    ListPoliciesResponse.Builder b = ListPoliciesResponse.newBuilder()
        .setDefaultPeering(peering.fallback().name().toLowerCase(java.util.Locale.ROOT))
        .setRevision(membership.durableRevision());
    peering.rules().policies().values().forEach(p -> b.addPolicies(PolicyMapper.toProto(p)));
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void getPolicy(GetPolicyRequest request, StreamObserver<io.meshwire.proto.policy.v1.PeeringPolicy> response) {
    try {
      String name = PeeringPolicy.name("name", request.getName());
      PeeringPolicy p = membership.peering().rules().policies().get(name);
      if (p == null) {
        throw new Rejection(Rejection.Kind.NOT_FOUND, "name: policy \"" + name + "\" does not exist");
      }
      response.onNext(PolicyMapper.toProto(p));
      response.onCompleted();
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void deletePolicy(DeletePolicyRequest request, StreamObserver<DeletePolicyResponse> response) {
    try {
      String name = PeeringPolicy.name("name", request.getName());
      String actor = Caller.current().label();
      membership.changePeering(new PeeringChange.DeletePolicy(name), request.getForce())
          .whenComplete((result, failure) -> {
            if (failure != null) {
              response.onError(Statuses.internal("store", failure));
              return;
            }
            audit.record(actor, "policy.deleted", name, "revision " + result.revision() + ", agents changed "
                + result.affectedAgents());
            response.onNext(DeletePolicyResponse.newBuilder().setRevision(result.revision())
                .setAffectedAgents(result.affectedAgents()).build());
            response.onCompleted();
          });
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  @Override
  public void explainPeering(ExplainPeeringRequest request, StreamObserver<ExplainPeeringResponse> response) {
    try {
      String a = ProtoMapper.clusterId("cluster_a", request.getClusterA());
      String b = ProtoMapper.clusterId("cluster_b", request.getClusterB());
      Peering peering = membership.peering();
      Peering.Explanation why = peering.explain(a, b);
      ExplainPeeringResponse.Builder out = ExplainPeeringResponse.newBuilder()
          .setMode(PolicyMapper.toProto(why.mode()))
          .putAllLabelsA(why.labelsA())
          .putAllLabelsB(why.labelsB())
          .addAllReasons(why.reasons())
          .setDefaultPeering(peering.fallback().name().toLowerCase(java.util.Locale.ROOT));
      Map<String, ReportStatusRequest> all = presence.reports();
      reported(all.get(a), b).ifPresent(out::setAReports);
      reported(all.get(b), a).ifPresent(out::setBReports);
      response.onNext(out.build());
      response.onCompleted();
    } catch (Rejection e) {
      response.onError(Statuses.of(e));
    }
  }

  private static java.util.Optional<PeerLinkStatus> reported(ReportStatusRequest report, String peer) {
    if (report == null) {
      return java.util.Optional.empty();
    }
    return report.getPeersList().stream().filter(p -> p.getPeerClusterId().equals(peer)).findFirst();
  }

  private static String labels(Map<String, String> labels, Membership.PeeringResult result) {
    return "labels " + new TreeMap<>(labels) + ", revision " + result.revision() + ", agents changed "
        + result.affectedAgents();
  }

  private Cluster cluster(ClusterRecord r, Set<String> connected, Map<String, Instant> lastSeen) {
    Cluster.Builder b = Cluster.newBuilder()
        .setRecord(ProtoMapper.toProto(r))
        .putAllLabels(membership.peering().rules().labelsOf(r.clusterId()))
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
