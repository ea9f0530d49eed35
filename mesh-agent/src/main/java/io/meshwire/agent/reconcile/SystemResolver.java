package io.meshwire.agent.reconcile;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code SystemResolver} resolves endpoints with the JVM's resolver ({@link InetAddress#getByName}:
 * no lookup for a literal). A name that does not resolve is counted
 * ({@code meshwire.agent.endpoint.resolve.failures}) and logged at WARN when it starts failing and
 * at INFO when it resolves again, not on every reconcile pass. Thread-safe.
 */
public final class SystemResolver implements EndpointResolver {

  private static final Logger log = LoggerFactory.getLogger(SystemResolver.class);

  private final Counter failures;
  private final Set<String> failing = ConcurrentHashMap.newKeySet();

  public SystemResolver(MeterRegistry meters) {
    this.failures = Counter.builder("meshwire.agent.endpoint.resolve.failures")
        .description("Peer gateway endpoints whose name did not resolve (the next endpoint is tried)")
        .register(meters);
  }

  @Override
  public InetAddress resolve(String host) throws UnknownHostException {
    try {
      InetAddress address = InetAddress.getByName(host);
      if (failing.remove(host)) {
        log.info("endpoint resolves again host={} address={}", host, address.getHostAddress());
      }
      return address;
    } catch (UnknownHostException e) {
      failures.increment();
      if (failing.add(host)) {
        log.warn("endpoint does not resolve host={} error=\"{}\"", host, e.getMessage());
      }
      throw e;
    }
  }
}
