package io.meshwire.hub.api;

import com.google.rpc.Code;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshwire.certs.SpiffeId;
import io.meshwire.hub.auth.Caller;
import io.meshwire.hub.auth.RateLimits;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.membership.ClusterRecord;
import io.meshwire.hub.membership.PeerView;
import io.meshwire.hub.membership.Rejection;
import io.meshwire.hub.watch.WatchHub;
import io.meshwire.hub.watch.WatchSink;
import io.meshwire.hub.wire.ProtoMapper;
import io.meshwire.hub.wire.Statuses;
import io.meshwire.proto.rendezvous.v1.AnnounceRequest;
import io.meshwire.proto.rendezvous.v1.AnnounceResponse;
import io.meshwire.proto.rendezvous.v1.Goaway;
import io.meshwire.proto.rendezvous.v1.PublishViewsRequest;
import io.meshwire.proto.rendezvous.v1.PublishViewsResponse;
import io.meshwire.proto.rendezvous.v1.RendezvousGrpc;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import io.meshwire.proto.rendezvous.v1.ReportStatusResponse;
import io.meshwire.proto.rendezvous.v1.WatchEvent;
import io.meshwire.proto.rendezvous.v1.WatchRequest;
import io.meshwire.validation.WireValidator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RendezvousService} is the transport edge of the rendezvous protocol: it converts requests
 * into domain calls on the {@link Membership} and {@link WatchHub}, and their outcomes into
 * responses and statuses. Watch responses are pre-encoded bytes (see {@link #bind()}).
 */
final class RendezvousService extends RendezvousGrpc.RendezvousImplBase {

  private static final Logger log = LoggerFactory.getLogger(RendezvousService.class);
  private static final int MAX_PEERS_IN_REPORT = 1024;

  private final Membership membership;
  private final WatchHub watches;
  private final RateLimits limits;
  private final Presence presence;
  private final AuditLog audit;
  private final WireValidator validator;

  RendezvousService(Membership membership, WatchHub watches, RateLimits limits, Presence presence,
      AuditLog audit, WireValidator validator) {
    this.validator = validator;
    this.membership = membership;
    this.watches = watches;
    this.limits = limits;
    this.presence = presence;
    this.audit = audit;
  }

  /**
   * The service definition with Watch bound to a byte-passthrough response marshaller: the hub
   * writes each change's shared encoded bytes, and clients still see plain {@code WatchEvent}s.
   */
  ServerServiceDefinition bind() {
    ServerServiceDefinition generated = bindService();
    MethodDescriptor<WatchRequest, byte[]> watch = RendezvousGrpc.getWatchMethod().toBuilder(
            ProtoUtils.marshaller(WatchRequest.getDefaultInstance()), PreEncodedMarshaller.INSTANCE)
        .build();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(RendezvousGrpc.SERVICE_NAME)
        .setSchemaDescriptor(RendezvousGrpc.getServiceDescriptor().getSchemaDescriptor());
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(
        descriptor.addMethod(RendezvousGrpc.getAnnounceMethod())
            .addMethod(RendezvousGrpc.getPublishViewsMethod())
            .addMethod(RendezvousGrpc.getReportStatusMethod())
            .addMethod(watch)
            .build());
    for (var method : generated.getMethods()) {
      if (!method.getMethodDescriptor().getFullMethodName().equals(watch.getFullMethodName())) {
        out.addMethod(method);
      }
    }
    out.addMethod(watch, ServerCalls.asyncServerStreamingCall(this::watchEncoded));
    return out.build();
  }

  @Override
  public void announce(AnnounceRequest request, StreamObserver<AnnounceResponse> response) {
    SpiffeId caller = Caller.current().requireId();
    Optional<java.time.Duration> retry = limits.announce(caller.name());
    if (retry.isPresent()) {
      response.onError(Statuses.rateLimited("Announce", retry.get()));
      return;
    }
    try {
      ClusterRecord record = ProtoMapper.fromProto(validator, request.getRecord(), caller.name());
      boolean joining = membership.cluster(caller.name()).isEmpty();
      complete(membership.upsert(record), response, "announce", caller.name(), revision -> {
        if (joining) {
          audit.record(caller.uri(), "cluster.joined", caller.name(), "revision " + revision);
        }
        return AnnounceResponse.newBuilder().setRevision(revision).setMeshUid(membership.meshUid()).build();
      });
    } catch (Rejection r) {
      log.info("announce rejected cluster={} reason=\"{}\"", caller.name(), r.getMessage());
      response.onError(Statuses.of(r));
    }
  }

  @Override
  public void publishViews(PublishViewsRequest request, StreamObserver<PublishViewsResponse> response) {
    SpiffeId caller = Caller.current().requireId();
    Optional<java.time.Duration> retry = limits.announce(caller.name());
    if (retry.isPresent()) {
      response.onError(Statuses.rateLimited("PublishViews", retry.get()));
      return;
    }
    try {
      if (request.getViewsCount() > ProtoMapper.MAX_VIEWS
          || request.getWithdrawnSubjectClusterIdsCount() > ProtoMapper.MAX_VIEWS) {
        throw Rejection.invalid("views", "at most " + ProtoMapper.MAX_VIEWS + " views and withdrawals per call");
      }
      List<PeerView> views = new ArrayList<>();
      Set<String> subjects = new HashSet<>();
      for (int i = 0; i < request.getViewsCount(); i++) {
        PeerView v = ProtoMapper.fromProto(validator, "views[" + i + "]", request.getViews(i), caller.name());
        if (!subjects.add(v.subjectClusterId())) {
          throw Rejection.invalid("views[" + i + "].subject_cluster_id", "\"" + v.subjectClusterId()
              + "\" appears twice");
        }
        views.add(v);
      }
      List<String> withdrawn = new ArrayList<>();
      for (int i = 0; i < request.getWithdrawnSubjectClusterIdsCount(); i++) {
        withdrawn.add(ProtoMapper.clusterId("withdrawn_subject_cluster_ids[" + i + "]",
            request.getWithdrawnSubjectClusterIds(i)));
      }
      complete(membership.publishViews(caller.name(), views, withdrawn), response, "views", caller.name(),
          revision -> PublishViewsResponse.newBuilder().setRevision(revision).build());
    } catch (Rejection r) {
      log.info("views rejected cluster={} reason=\"{}\"", caller.name(), r.getMessage());
      response.onError(Statuses.of(r));
    }
  }

  @Override
  public void reportStatus(ReportStatusRequest request, StreamObserver<ReportStatusResponse> response) {
    SpiffeId caller = Caller.current().requireId();
    if (request.getPeersCount() > MAX_PEERS_IN_REPORT) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("peers: " + request.getPeersCount()
          + " entries, at most " + MAX_PEERS_IN_REPORT).asRuntimeException());
      return;
    }
    presence.reported(caller.name(), request);
    response.onNext(ReportStatusResponse.getDefaultInstance());
    response.onCompleted();
  }

  private void watchEncoded(WatchRequest request, StreamObserver<byte[]> plain) {
    SpiffeId caller = Caller.current().requireId();
    ServerCallStreamObserver<byte[]> stream = (ServerCallStreamObserver<byte[]>) plain;
    WatchSink sink = new WatchSink() {
      @Override
      public boolean isReady() {
        return stream.isReady() && !stream.isCancelled();
      }

      @Override
      public void send(byte[] encodedEvent) {
        stream.onNext(encodedEvent);
      }

      @Override
      public void fail(Failure failure) {
        switch (failure.kind()) {
          case REVOKED -> stream.onError(Status.PERMISSION_DENIED.withDescription(failure.message()).asRuntimeException());
          case OVERLOADED -> stream.onError(Statuses.withRetry(Code.RESOURCE_EXHAUSTED, failure.message(),
              failure.retryAfter()));
          case SHUTTING_DOWN -> {
            stream.onNext(WatchEvent.newBuilder().setGoaway(Goaway.newBuilder()
                .setReason(failure.message())
                .setRetryAfter(com.google.protobuf.Duration.newBuilder().setSeconds(failure.retryAfter().toSeconds())))
                .build().toByteArray());
            stream.onError(Statuses.withRetry(Code.UNAVAILABLE, failure.message(), failure.retryAfter()));
          }
        }
      }
    };
    String meshUid = request.getMeshUid();
    WatchHub.Subscription subscription = watches.subscribe(caller.name(), request.getSinceRevision(), meshUid, sink,
        ConnectionExecutor.current().orElse(null));
    stream.setOnReadyHandler(subscription::onReady);
    stream.setOnCancelHandler(subscription::cancel);
    stream.setOnCloseHandler(subscription::cancel);
    log.debug("watch opened cluster={} since={}", caller.name(), request.getSinceRevision());
  }

  /**
   * Answers {@code response} once the store has made the change durable; a store failure is
   * UNAVAILABLE. A {@link Rejection} the store decided after the call returned (the etcd store's
   * announce batches) is logged as the synchronous ones are.
   */
  private static <T> void complete(CompletableFuture<Long> written, StreamObserver<T> response, String what,
      String cluster, java.util.function.LongFunction<T> onSuccess) {
    written.whenComplete((revision, failure) -> {
      if (failure != null) {
        if (Statuses.unwrapped(failure) instanceof Rejection r) {
          log.info("{} rejected cluster={} reason=\"{}\"", what, cluster, r.getMessage());
        }
        response.onError(Statuses.internal("store", failure));
        return;
      }
      response.onNext(onSuccess.apply(revision));
      response.onCompleted();
    });
  }
}
