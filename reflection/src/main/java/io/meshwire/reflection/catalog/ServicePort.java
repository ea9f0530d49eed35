package io.meshwire.reflection.catalog;

import java.util.Objects;

/**
 * {@code ServicePort} is one port of an exported service as clients address it.
 *
 * @param name empty when the service has a single unnamed port
 * @param protocol {@code TCP}, {@code UDP} or {@code SCTP}
 * @param port 1..65535 (checked by {@link CatalogLimits}, not here, so that a bad catalog can be
 *     described instead of failing to build)
 * @param appProtocol empty when unset
 */
public record ServicePort(String name, String protocol, int port, String appProtocol) {

  public ServicePort {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(appProtocol, "appProtocol");
  }

  /** A port without an application protocol. */
  public static ServicePort of(String name, String protocol, int port) {
    return new ServicePort(name, protocol, port, "");
  }

  @Override
  public String toString() {
    return (name.isEmpty() ? "" : name + ":") + port + "/" + protocol;
  }
}
