package io.meshwire.certs;

import java.util.Locale;

/**
 * {@code Role} is the second path segment of a meshwire SPIFFE ID: what kind of principal a
 * certificate names. The hub authorizes by role and name, never by a field in a request.
 */
public enum Role {
  /** A member cluster's agent: {@code spiffe://<mesh>/cluster/<id>}. */
  CLUSTER,
  /** A rendezvous hub: {@code spiffe://<mesh>/hub/<name>}. */
  HUB,
  /** An operator using the admin API: {@code spiffe://<mesh>/admin/<name>}. */
  ADMIN;

  /** Returns the path segment of this role in a SPIFFE ID: {@code "cluster"}, {@code "hub"} or {@code "admin"}. */
  public String pathSegment() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Returns the role whose {@link #pathSegment()} is {@code segment}.
   *
   * @throws IllegalArgumentException naming the segment and the allowed values
   */
  public static Role fromPathSegment(String segment) {
    for (Role role : values()) {
      if (role.pathSegment().equals(segment)) {
        return role;
      }
    }
    throw new IllegalArgumentException(
        "role \"" + segment + "\": expected one of cluster, hub, admin");
  }
}
