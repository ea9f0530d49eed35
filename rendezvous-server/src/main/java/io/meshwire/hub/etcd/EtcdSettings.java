package io.meshwire.hub.etcd;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@code EtcdSettings}: how a hub replica reaches its etcd cluster. Clients always use mutual TLS
 * ({@code https} endpoints, a CA to verify the members, a client certificate and key). Every key
 * the hub writes lives under {@code prefix}, so one etcd cluster can hold several meshes. Immutable;
 * validated at construction with a message that names the setting.
 */
public record EtcdSettings(List<URI> endpoints, Path ca, Path cert, Path key, String prefix) {

  public static final String DEFAULT_PREFIX = "/meshwire/";

  public EtcdSettings {
    Objects.requireNonNull(endpoints, "endpoints");
    endpoints = List.copyOf(endpoints);
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("hub config: etcd-endpoints: is required with store etcd");
    }
    for (URI e : endpoints) {
      if (!"https".equals(e.getScheme()) || e.getHost() == null || e.getPort() < 1) {
        throw new IllegalArgumentException("hub config: etcd-endpoints: \"" + e
            + "\" is not https://host:port (the hub speaks to etcd over mutual TLS only)");
      }
    }
    requireFile("etcd-ca", ca);
    requireFile("etcd-cert", cert);
    requireFile("etcd-key", key);
    if (prefix == null || !prefix.startsWith("/") || !prefix.endsWith("/") || prefix.length() < 2
        || prefix.length() > 128 || !prefix.matches("[A-Za-z0-9/_.-]+")) {
      throw new IllegalArgumentException("hub config: etcd-prefix: \"" + prefix
          + "\" must start and end with '/', hold [A-Za-z0-9/_.-] and be at most 128 characters");
    }
  }

  private static void requireFile(String setting, Path file) {
    if (file == null) {
      throw new IllegalArgumentException("hub config: " + setting + ": is required with store etcd");
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException("hub config: " + setting + ": " + file + " is not a readable file");
    }
  }

  /** Parses {@code https://h1:2379,https://h2:2379}. */
  public static List<URI> parseEndpoints(String value) {
    List<URI> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      try {
        out.add(URI.create(p));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("\"" + p + "\" is not a URL", e);
      }
    }
    return out;
  }
}
