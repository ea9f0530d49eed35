package io.meshwire.hub.server;

import io.grpc.netty.NettyServerBuilder;
import io.meshwire.hub.api.ConnectionExecutor;

/**
 * {@code HubTransport} is everything about how the hub's gRPC server moves bytes: event loops,
 * socket transport, and the hook that lets the Watch fan-out write from each connection's own
 * event loop. One place, so whoever builds the server applies it with {@link #configure}.
 */
final class HubTransport implements AutoCloseable {

  private HubTransport() {}

  /** The transport for one server; {@link #close} after the server has terminated. */
  static HubTransport create() {
    return new HubTransport();
  }

  /** Applies the transport settings to {@code builder}. */
  NettyServerBuilder configure(NettyServerBuilder builder) {
    return builder
        .addTransportFilter(ConnectionExecutor.transportFilter())
        .intercept(ConnectionExecutor.interceptor());
  }

  /** A short description for the start log line. */
  String describe() {
    return "nio";
  }

  @Override
  public void close() {}
}
