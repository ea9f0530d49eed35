package io.meshwire.hub;

import io.meshwire.hub.server.HubConfig;
import io.meshwire.hub.server.HubServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;

/** Runs a hub in a child JVM for crash tests: args are data-dir and port; prints READY when listening. */
public final class HubProcessMain {
  public static void main(String[] args) throws Exception {
    HubServer hub = HubServer.start(HubConfig.parse(Map.of(
            "data-dir", Path.of(args[0]).toString(),
            "listen", "127.0.0.1:" + args[1],
            "mesh", "test.mesh",
            "announce-rate", "100000/1s")),
        InstantSource.system(), new SimpleMeterRegistry());
    System.out.println("READY " + hub.port());
    System.out.flush();
    hub.awaitTermination();
  }
}
