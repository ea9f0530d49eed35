package io.meshwire.agent.hub;

import io.meshwire.netaddr.HostPort;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code HubAddresses} is the rotation over the hub replicas an agent knows: every configured
 * {@code host:port}, a DNS name counting as all of its A/AAAA records. The rotation starts at a
 * random position, so agents spread over the replicas instead of all taking the first one, and
 * goes on in order after each failure. Names are resolved again each time the rotation has gone
 * once around (replicas come and go behind a name); a name that does not resolve stays in the
 * rotation as the name (the connection attempt then says why).
 *
 * <p>Thread-safe.
 */
final class HubAddresses {

  private static final Logger log = LoggerFactory.getLogger(HubAddresses.class);

  /** Resolves a host name to its addresses (all A and AAAA records); the seam for tests. */
  @FunctionalInterface
  public interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;
  }

  /** The system resolver. */
  public static final Resolver DNS = host -> List.of(InetAddress.getAllByName(host));

  private final List<HostPort> configured;
  private final Resolver resolver;
  // @GuardedBy("this")
  private List<HostPort> rotation;
  // @GuardedBy("this"): index into rotation of the next address
  private int position;
  // @GuardedBy("this"): addresses handed out since the last resolution
  private int handedOut;

  /**
   * @param random picks the starting position
   * @throws IllegalArgumentException when {@code configured} is empty
   */
  public HubAddresses(List<HostPort> configured, Resolver resolver, RandomGenerator random) {
    if (configured.isEmpty()) {
      throw new IllegalArgumentException("hub addresses: at least one is required");
    }
    this.configured = List.copyOf(configured);
    this.resolver = resolver;
    this.rotation = resolve();
    this.position = random.nextInt(rotation.size());
  }

  /** The system resolver and a random start. */
  public static HubAddresses of(List<HostPort> configured) {
    return new HubAddresses(configured, DNS, RandomGenerator.getDefault());
  }

  /** The configured order, from the first, names resolved by the system (tests that need an order). */
  public static HubAddresses inOrder(List<HostPort> configured) {
    return new HubAddresses(configured, DNS, new java.util.Random() {
      @Override
      public int nextInt(int bound) {
        return 0;
      }
    });
  }

  /** The next address to connect to. */
  public synchronized HostPort next() {
    if (handedOut >= rotation.size()) {
      HostPort last = rotation.get(Math.floorMod(position - 1, rotation.size()));
      rotation = resolve();
      // Go on after the address used last, wherever it is now.
      int at = rotation.indexOf(last);
      position = at < 0 ? Math.floorMod(position, rotation.size()) : (at + 1) % rotation.size();
      handedOut = 0;
    }
    HostPort next = rotation.get(position);
    position = (position + 1) % rotation.size();
    handedOut++;
    return next;
  }

  /** Every address of the current rotation, once, starting with the next one (to try each once). */
  public synchronized List<HostPort> round() {
    List<HostPort> out = new ArrayList<>(rotation.size());
    for (int i = 0; i < rotation.size(); i++) {
      out.add(next());
    }
    return out;
  }

  private List<HostPort> resolve() {
    List<HostPort> out = new ArrayList<>();
    for (HostPort hub : configured) {
      try {
        for (InetAddress a : resolver.resolve(hub.host())) {
          HostPort resolved = new HostPort(a.getHostAddress(), hub.port());
          if (!out.contains(resolved)) {
            out.add(resolved);
          }
        }
      } catch (UnknownHostException e) {
        log.warn("hub address does not resolve; keeping the name hub={} error=\"{}\"", hub, e.getMessage());
        out.add(hub);
      }
    }
    if (out.isEmpty()) {
      return configured;
    }
    return List.copyOf(out);
  }
}
