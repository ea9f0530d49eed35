package io.meshwire.hub.auth;

import io.meshwire.certs.Role;
import java.util.Map;
import java.util.Set;

/**
 * {@code AccessPolicy} says which roles may call which methods. Deny by default: a method or
 * service not listed is refused for everyone. {@link #ANONYMOUS} marks methods reachable without
 * a client certificate. Immutable.
 */
public final class AccessPolicy {

  /** Pseudo-role for "no client certificate needed". */
  public static final String ANONYMOUS = "anonymous";

  private final Map<String, Set<String>> byMethod;
  private final Map<String, Set<String>> byService;

  private AccessPolicy(Map<String, Set<String>> byMethod, Map<String, Set<String>> byService) {
    this.byMethod = Map.copyOf(byMethod);
    this.byService = Map.copyOf(byService);
  }

  /** The hub's policy. */
  public static AccessPolicy hub() {
    String cluster = Role.CLUSTER.pathSegment();
    String admin = Role.ADMIN.pathSegment();
    String hub = Role.HUB.pathSegment();
    Set<String> anyone = Set.of(ANONYMOUS, cluster, admin, hub);
    return new AccessPolicy(
        Map.of(
            "meshwire.enrollment.v1.Enrollment/Enroll", Set.of(ANONYMOUS),
            "meshwire.enrollment.v1.Enrollment/Renew", Set.of(cluster),
            // Standalone relays (hub-role certificates) poll it to cut revoked clusters off.
            "meshwire.admin.v1.MeshAdmin/ListRevocations", Set.of(admin, hub)),
        Map.of(
            "meshwire.rendezvous.v1.Rendezvous", Set.of(cluster),
            "meshwire.admin.v1.MeshAdmin", Set.of(admin),
            "grpc.health.v1.Health", anyone,
            "grpc.reflection.v1.ServerReflection", Set.of(cluster, admin, hub),
            "grpc.reflection.v1alpha.ServerReflection", Set.of(cluster, admin, hub)));
  }

  /** True when a caller with {@code role} (or {@link #ANONYMOUS}) may call {@code fullMethodName}. */
  public boolean allows(String fullMethodName, String role) {
    Set<String> roles = byMethod.get(fullMethodName);
    if (roles == null) {
      int slash = fullMethodName.indexOf('/');
      roles = slash < 0 ? null : byService.get(fullMethodName.substring(0, slash));
    }
    return roles != null && roles.contains(role);
  }
}
