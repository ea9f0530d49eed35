package io.meshwire.cli.admin;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.meshwire.certs.tls.HubChannels;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.admin.v1.MeshAdminGrpc;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code AdminConnection} is one TLS channel to a hub's {@code MeshAdmin} API, authenticated with an
 * admin certificate. Unary calls get a {@link #CALL_DEADLINE} each. Close it when the command is
 * done. Thread-safe (gRPC channels and stubs are).
 */
final class AdminConnection implements AutoCloseable {

  /** Deadline of each unary call. */
  public static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

  private final ManagedChannel channel;

  private AdminConnection(ManagedChannel channel) {
    this.channel = channel;
  }

  static AdminConnection open(HostPort hub, TlsCredentials credentials, InstantSource clock) {
    return new AdminConnection(HubChannels.open(hub, credentials, clock));
  }

  /** The channel itself, for a caller that makes its own stubs and deadlines (the console). */
  public ManagedChannel channel() {
    return channel;
  }

  /** A stub for one unary call, its deadline starting now. */
  public MeshAdminGrpc.MeshAdminBlockingStub call() {
    return MeshAdminGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A stub for streaming calls, without a deadline. */
  public MeshAdminGrpc.MeshAdminStub stream() {
    return MeshAdminGrpc.newStub(channel);
  }

  /**
   * Connects and waits until the channel is ready, it failed, or {@code timeout} passed; a call
   * made after a failure fails at once with the reason. Lets a caller time the idleness of a
   * stream from the moment the hub can answer, not from the start of the TLS handshake.
   */
  public void awaitConnected(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ConnectivityState state = channel.getState(true);
    while (state != ConnectivityState.READY && state != ConnectivityState.TRANSIENT_FAILURE
        && state != ConnectivityState.SHUTDOWN) {
      CountDownLatch changed = new CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      long left = deadline - System.nanoTime();
      if (left <= 0 || !changed.await(left, TimeUnit.NANOSECONDS)) {
        return;
      }
      state = channel.getState(true);
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
