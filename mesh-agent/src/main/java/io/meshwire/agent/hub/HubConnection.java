package io.meshwire.agent.hub;

import io.meshwire.agent.state.View;
import io.meshwire.certs.SpiffeId;
import io.meshwire.certs.tls.TlsCredentials;
import io.meshwire.netaddr.HostPort;
import io.meshwire.proto.rendezvous.v1.ClusterRecord;
import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code HubConnection} is what the agent's session, identity and status reporter ask of the hub.
 * {@link HubClient} is the one real implementation (gRPC over mutual TLS); tests pass fakes, so the
 * session's retry, breaker and renewal logic runs without a network. Calls block and throw the
 * hub's {@code StatusRuntimeException}s.
 */
public interface HubConnection extends AutoCloseable {

  /** Announces the cluster's own record; returns the revision it was stored at. */
  long announce(ClusterRecord record);

  /** Publishes views of peers and withdraws the views of {@code withdrawn}; returns the revision. */
  long publishViews(List<View> views, List<String> withdrawn);

  void reportStatus(ReportStatusRequest report);

  /** Renews the certificate with a new key pair; the caller persists and then {@link #useCredentials}. */
  TlsCredentials renew(SpiffeId self);

  /** Switches to new credentials; the next call reconnects with them. */
  void useCredentials(TlsCredentials renewed);

  /** Runs one Watch stream to its end (see {@link HubClient#watch}). */
  CompletableFuture<HubClient.WatchEnd> watch(long sinceRevision, String meshUid, HubEvents events);

  /** Moves to the next hub address (after a transport failure). */
  void rotate();

  /** The hub address in use, or null before the first call. */
  HostPort currentHub();

  @Override
  void close();
}
