package io.meshwire.loadtests.agent;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code HubAddressList} resolves {@code bench-hubs:///7443,7444,7445} to those loopback ports, in
 * that order, as one address group: with gRPC's default {@code pick_first}, a channel connects to
 * the first port that answers and, when that hub dies, reconnects to the next one. The simulated
 * agents of a replicated bench use it (each agent's list starts at another replica), like the real
 * agent's {@code --hub h1,h2,h3}. Registered once; thread-safe.
 */
final class HubAddressList extends NameResolverProvider {

  static final String SCHEME = "bench-hubs";
  private static final HubAddressList INSTANCE = new HubAddressList();

  static {
    NameResolverRegistry.getDefaultRegistry().register(INSTANCE);
  }

  private HubAddressList() {}

  /** The channel target for {@code ports}, tried in this order. */
  static String target(List<Integer> ports) {
    if (ports.isEmpty()) {
      throw new IllegalArgumentException("no hub port");
    }
    return SCHEME + ":///" + String.join(",", ports.stream().map(String::valueOf).toList());
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    List<SocketAddress> addresses = new ArrayList<>();
    for (String port : targetUri.getPath().substring(1).split(",")) {
      addresses.add(new InetSocketAddress("127.0.0.1", Integer.parseInt(port)));
    }
    return new NameResolver() {
      @Override
      public String getServiceAuthority() {
        return "127.0.0.1";
      }

      @Override
      public void start(Listener2 listener) {
        listener.onResult(ResolutionResult.newBuilder()
            .setAddressesOrError(io.grpc.StatusOr.fromValue(List.of(new EquivalentAddressGroup(addresses)))).build());
      }

      @Override
      public void shutdown() {}
    };
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }
}
