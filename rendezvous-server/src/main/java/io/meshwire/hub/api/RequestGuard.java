package io.meshwire.hub.api;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.meshwire.netaddr.Quote;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RequestGuard} parses every request of a service itself, so bytes that are not a valid
 * message end the call with INVALID_ARGUMENT and a short reason, counted in {@code
 * meshwire_hub_requests_malformed_total{method}}, logged as one line without a stack trace, and
 * recorded in the audit log as a refused call. Without it, grpc-java parses in its own code and
 * answers UNKNOWN with a SEVERE stack trace per request (2.3 KB of log for a 5-byte anonymous
 * call). It also cuts every status description to {@link Quote#MAX_MESSAGE_CHARS} (a health check
 * for a 10,000-character service name must not answer with 10 KB of trailers). Wraps a {@link
 * ServerServiceDefinition}: requests travel as bytes up to here, responses
 * are untouched. Thread-safe.
 */
public final class RequestGuard {

  private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);

  private final MeterRegistry meters;
  private final AuditLog audit;

  public RequestGuard(MeterRegistry meters, AuditLog audit) {
    this.meters = meters;
    this.audit = audit;
  }

  /** {@code service} with every method's request parsed by the guard. */
  public ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    java.util.List<ServerMethodDefinition<byte[], ?>> methods = new java.util.ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<byte[], ?> wrapped = wrap(method);
      descriptor.addMethod(wrapped.getMethodDescriptor());
      methods.add(wrapped);
    }
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(out::addMethod);
    return out.build();
  }

  private <Q, R> ServerMethodDefinition<byte[], R> wrap(ServerMethodDefinition<Q, R> definition) {
    MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
    MethodDescriptor<byte[], R> raw = method.toBuilder(PreEncodedMarshaller.INSTANCE, method.getResponseMarshaller())
        .build();
    ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
    return ServerMethodDefinition.create(raw, (call, headers) -> {
      ParsedCall<Q, R> parsed = new ParsedCall<>(call, method);
      ServerCall.Listener<Q> listener = handler.startCall(parsed, headers);
      return new ServerCall.Listener<byte[]>() {
        @Override
        public void onMessage(byte[] message) {
          if (parsed.refused.get()) {
            return;
          }
          Q request;
          try {
            request = method.parseRequest(new ByteArrayInputStream(message));
          } catch (RuntimeException e) {
            parsed.refused.set(true);
            refuse(call, method, message.length, e);
            return;
          }
          listener.onMessage(request);
        }

        @Override
        public void onHalfClose() {
          if (!parsed.refused.get()) {
            listener.onHalfClose();
          }
        }

        @Override
        public void onCancel() {
          listener.onCancel();
        }

        @Override
        public void onComplete() {
          listener.onComplete();
        }

        @Override
        public void onReady() {
          if (!parsed.refused.get()) {
            listener.onReady();
          }
        }
      };
    });
  }

  private void refuse(ServerCall<byte[], ?> call, MethodDescriptor<?, ?> method, int bytes, RuntimeException e) {
    String reason = reason(e);
    String name = method.getFullMethodName();
    Counter.builder("meshwire.hub.requests.malformed").description("Requests whose bytes are not a valid message")
        .tag("method", name).register(meters).increment();
    Object remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    log.info("request malformed method={} remote={} bytes={} reason={}", name, remote, bytes, Quote.of(reason));
    audit.record(String.valueOf(remote), "call.refused", name, "malformed request (" + bytes + " bytes): "
        + Quote.of(reason));
    call.close(Status.INVALID_ARGUMENT.withDescription("request is not a valid "
        + method.getFullMethodName().substring(0, Math.max(0, name.indexOf('/'))) + " message: " + Quote.of(reason)),
        new Metadata());
  }

  /** The parser's own words, without the wrapping status text, as short as it gets. */
  private static String reason(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return message.lines().findFirst().orElse(message);
  }

  /** The original typed call over the byte-level one: the service sees its own method descriptor. */
  private static final class ParsedCall<Q, R> extends ServerCall<Q, R> {
    private final ServerCall<byte[], R> delegate;
    private final MethodDescriptor<Q, R> method;
    final AtomicBoolean refused = new AtomicBoolean();

    ParsedCall(ServerCall<byte[], R> delegate, MethodDescriptor<Q, R> method) {
      this.delegate = delegate;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      delegate.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      delegate.sendHeaders(headers);
    }

    @Override
    public void sendMessage(R message) {
      delegate.sendMessage(message);
    }

    /** Every service's status description is bounded here, third-party ones (health) too. */
    @Override
    public void close(Status status, Metadata trailers) {
      if (!refused.get()) {
        String description = status.getDescription();
        delegate.close(description == null || description.length() <= Quote.MAX_MESSAGE_CHARS ? status
            : status.withDescription(Quote.cut(description)), trailers);
      }
    }

    @Override
    public boolean isReady() {
      return delegate.isReady();
    }

    @Override
    public boolean isCancelled() {
      return delegate.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      delegate.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      delegate.setCompression(compressor);
    }

    @Override
    public Attributes getAttributes() {
      return delegate.getAttributes();
    }

    @Override
    public String getAuthority() {
      return delegate.getAuthority();
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }
  }
}
