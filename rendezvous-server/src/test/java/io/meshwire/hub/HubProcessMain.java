package io.meshwire.hub;

import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs a hub in a child JVM for crash tests: args are data-dir and port, then any further hub
 * settings as key=value (e.g. store=etcd); prints READY when listening.
 */
public final class HubProcessMain {
  public static void main(String[] args) throws Exception {
    Map<String, String> settings = new HashMap<>(Map.of(
        "data-dir", Path.of(args[0]).toString(),
        "listen", "127.0.0.1:" + args[1],
        "mesh", "test.mesh",
        "announce-rate", "100000/1s"));
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    HubServer hub = HubServer.start(HubConfig.parse(settings), InstantSource.system(), new SimpleMeterRegistry());
    System.out.println("READY " + hub.port());
    System.out.flush();
    hub.awaitTermination();
  }
}
