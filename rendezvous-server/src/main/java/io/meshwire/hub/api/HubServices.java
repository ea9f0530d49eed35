package io.meshwire.hub.api;

import io.grpc.ServerServiceDefinition;
import io.meshwire.certs.TokenStore;
import io.meshwire.certs.MeshCa;
import io.meshwire.certs.Revocations;
import io.meshwire.hub.auth.RateLimits;
import io.meshwire.hub.log.Membership;
import io.meshwire.hub.watch.WatchHub;
import io.meshwire.validation.WireValidator;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;

/**
 * {@code HubServices} builds the hub's three gRPC services over shared collaborators, so the
 * server wiring sees one object and the services keep package-private constructors.
 */
public final class HubServices {

  private final List<ServerServiceDefinition> definitions;

  public HubServices(MeshCa ca, TokenStore tokens, Revocations revocations, Membership membership,
      WatchHub watches, RateLimits limits, Duration certValidity, Presence presence,
      InstantSource clock, MeterRegistry meters, WireValidator validator, AuditLog audit) {
    RequestGuard guard = new RequestGuard(meters, audit);
    this.definitions = List.of(
        guard.guard(new EnrollmentService(ca, tokens, certValidity, audit, meters).bindService()),
        guard.guard(new RendezvousService(membership, watches, limits, presence, audit, validator).bind()),
        guard.guard(new AdminService(ca.mesh(), membership, watches, tokens, revocations, presence, audit, clock).bindService()));
  }

  public List<ServerServiceDefinition> definitions() {
    return definitions;
  }
}
