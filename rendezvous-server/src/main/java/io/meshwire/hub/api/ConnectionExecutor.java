package io.meshwire.hub.api;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * {@code ConnectionExecutor} carries a connection's Netty event loop to the calls on it, so the
 * Watch fan-out can write each stream from the thread that owns its socket (no hand-off per
 * message). The transport filter records the loop when the connection becomes ready (grpc-netty
 * calls it there); the interceptor puts it in the call's {@link Context}. Absent on transports
 * without one (in-process).
 */
public final class ConnectionExecutor {

  private static final Attributes.Key<Executor> ATTRIBUTE = Attributes.Key.create("meshwire.connection-executor");
  private static final Context.Key<Executor> KEY = Context.key("meshwire.connection-executor");

  private ConnectionExecutor() {}

  /** The current call's connection event loop, when its transport has one. */
  public static Optional<Executor> current() {
    return Optional.ofNullable(KEY.get());
  }

  /** Records the event loop a connection becomes ready on. */
  public static ServerTransportFilter transportFilter() {
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attributes) {
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        return loop == null ? attributes : attributes.toBuilder().set(ATTRIBUTE, loop).build();
      }
    };
  }

  /** Makes the connection's event loop visible to the call's handler. */
  public static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        Executor loop = call.getAttributes().get(ATTRIBUTE);
        if (loop == null) {
          return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(KEY, loop), call, headers, next);
      }
    };
  }
}
