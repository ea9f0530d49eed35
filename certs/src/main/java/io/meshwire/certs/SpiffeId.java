package io.meshwire.certs;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * {@code SpiffeId} is the identity a meshwire certificate carries as its single URI SAN:
 * {@code spiffe://<mesh>/<role>/<name>}, e.g. {@code spiffe://demo/cluster/east}.
 *
 * <p>{@code mesh} is the SPIFFE trust domain, a DNS-like name of 1 to 253 characters from
 * {@code [a-z0-9.-]}; {@code name} is a DNS label (lower case, at most 63 characters, no leading or
 * trailing dash), so it can double as a DNS SAN. Instances are immutable and always valid;
 * {@link #toString()} returns {@link #uri()} so an ID logs as {@code id=spiffe://...}.
 */
public record SpiffeId(String mesh, Role role, String name) {

  private static final String SCHEME = "spiffe://";
  private static final Pattern MESH = Pattern.compile("[a-z0-9.-]{1,253}");
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  /**
   * Validates the parts.
   *
   * @throws IllegalArgumentException naming the field and the offending value
   */
  public SpiffeId {
    Objects.requireNonNull(role, "role");
    checkMesh(mesh);
    checkName(name);
  }

  /**
   * Checks that {@code mesh} is a valid trust domain name.
   *
   * @throws IllegalArgumentException naming the value and the rule it breaks
   */
  public static String checkMesh(String mesh) {
    if (mesh == null || !MESH.matcher(mesh).matches()) {
      throw new IllegalArgumentException(
          "mesh \"" + mesh + "\": must be 1 to 253 characters of a-z, 0-9, '.' and '-'");
    }
    return mesh;
  }

  /**
   * Checks that {@code name} is a DNS label (what clusters, hubs and admins are called).
   *
   * @throws IllegalArgumentException naming the value and the rule it breaks
   */
  public static String checkName(String name) {
    if (name == null || !LABEL.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name \""
              + name
              + "\": must be a DNS label (1 to 63 characters of a-z, 0-9 and '-', "
              + "starting and ending with a letter or digit)");
    }
    return name;
  }

  /**
   * Parses {@code spiffe://<mesh>/<cluster|hub|admin>/<name>}.
   *
   * @throws IllegalArgumentException with a message quoting {@code uri} and saying what is wrong
   */
  public static SpiffeId parse(String uri) {
    if (uri == null) {
      throw new IllegalArgumentException("SPIFFE ID is null");
    }
    if (!uri.startsWith(SCHEME)) {
      throw new IllegalArgumentException(
          "SPIFFE ID \"" + uri + "\": must start with spiffe:// (expected spiffe://<mesh>/<role>/<name>)");
    }
    String[] parts = uri.substring(SCHEME.length()).split("/", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException(
          "SPIFFE ID \"" + uri + "\": expected spiffe://<mesh>/<cluster|hub|admin>/<name>");
    }
    try {
      return new SpiffeId(parts[0], Role.fromPathSegment(parts[1]), parts[2]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("SPIFFE ID \"" + uri + "\": " + e.getMessage(), e);
    }
  }

  /**
   * Returns the SPIFFE ID in the certificate's only URI SAN.
   *
   * @throws CertificateRejectedException with reason {@code NO_SPIFFE_ID} if the certificate has
   *     no URI SAN, more than one, or one that is not a valid meshwire SPIFFE ID
   */
  public static SpiffeId of(X509Certificate cert) throws CertificateRejectedException {
    List<String> uris = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (san.size() >= 2 && Integer.valueOf(6).equals(san.get(0))) {
            uris.add(String.valueOf(san.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new CertificateRejectedException(
          CertificateRejectedException.Reason.NO_SPIFFE_ID,
          "certificate " + cert.getSubjectX500Principal() + ": unreadable subjectAltName: " + e.getMessage());
    }
    if (uris.size() != 1) {
      throw new CertificateRejectedException(
          CertificateRejectedException.Reason.NO_SPIFFE_ID,
          "certificate "
              + cert.getSubjectX500Principal()
              + ": expected exactly one URI SAN (the SPIFFE ID), found "
              + uris.size());
    }
    try {
      return parse(uris.get(0));
    } catch (IllegalArgumentException e) {
      throw new CertificateRejectedException(
          CertificateRejectedException.Reason.NO_SPIFFE_ID,
          "certificate " + cert.getSubjectX500Principal() + ": " + e.getMessage());
    }
  }

  /** Returns {@code spiffe://<mesh>/<role>/<name>}. */
  public String uri() {
    return SCHEME + mesh + "/" + role.pathSegment() + "/" + name;
  }

  /** Returns {@link #uri()}. */
  @Override
  public String toString() {
    return uri();
  }
}
