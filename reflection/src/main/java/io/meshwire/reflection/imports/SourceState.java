package io.meshwire.reflection.imports;

import io.meshwire.reflection.catalog.Catalog;
import java.net.InetAddress;
import java.util.Objects;
import java.util.function.Function;

/**
 * {@code SourceState} is what the importer knows of one source cluster: its latest catalog,
 * whether the tunnel to it is up, and how this cluster sees its pod addresses.
 *
 * @param translate a source pod address to the address this cluster reaches it at; {@code null}
 *     means unreachable (the endpoint address is left out)
 */
record SourceState(String cluster, Catalog catalog, boolean ready, Function<InetAddress, InetAddress> translate) {

  public SourceState {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(catalog, "catalog");
    Objects.requireNonNull(translate, "translate");
  }

  public SourceState withReady(boolean value) {
    return new SourceState(cluster, catalog, value, translate);
  }
}
