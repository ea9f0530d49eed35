package io.meshwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar users run ({@code cli/target/meshwire.jar}, what {@code ./meshwire} and the container
 * image start with {@code java -jar}), run the way they run it.
 */
class ShippedJarIT {

  private static final Path JAR = Path.of("target", "meshwire.jar").toAbsolutePath();

  @TempDir Path dir;

  /** {@code java -jar meshwire.jar args...} with this JVM's java and no extra JVM options. */
  private static JavaProcess.Result run(String... args) throws Exception {
    return JavaProcess.run(List.of("-jar", JAR.toString()), args);
  }

  /**
   * What ships is the product only: no test framework, no test fixtures, no benchmarks. The demo's
   * network lab (netlab) is product and is in; test-support's JUnit glue is not.
   */
  @Test
  void jarHoldsNoTestCodeOrBenchmarks() throws Exception {
    List<String> entries;
    try (JarFile jar = new JarFile(JAR.toFile())) {
      entries = jar.stream().map(java.util.jar.JarEntry::getName).toList();
    }
    for (String banned : List.of("org/junit/", "org/opentest4j/", "org/apiguardian/", "org/awaitility/",
        "io/meshwire/loadtests/", "org/openjdk/jmh/", "io/meshwire/testsupport/")) {
      assertEquals(List.of(), entries.stream().filter(e -> e.startsWith(banned)).limit(3).toList(), banned);
    }
    for (String shipped : List.of("io/meshwire/cli/Main.class", "io/meshwire/netlab/lab/MeshLab.class",
        "io/meshwire/netlab/netns/NetworkNamespaces.class", "io/meshwire/certs/tls/HubChannels.class",
        "io/meshwire/agent/AgentMain.class", "io/meshwire/hub/server/HubMain.class",
        // the hub's etcd store (--store etcd) ships; etcd's client is product code now
        "io/etcd/jetcd/Client.class")) {
      assertTrue(entries.contains(shipped), shipped);
    }
  }

  @Test
  void manifestAllowsNettysNativeLibrary() throws Exception {
    try (JarFile jar = new JarFile(JAR.toFile())) {
      var attributes = jar.getManifest().getMainAttributes();
      assertEquals("io.meshwire.cli.Start", attributes.getValue("Main-Class"));
      assertEquals("ALL-UNNAMED", attributes.getValue("Enable-Native-Access"));
    }
  }

  /**
   * A command that loads netty-tcnative (OpenSSL through JNI) prints its error only: no JVM
   * "restricted method" warnings (JDK 24+ prints four without the manifest entry).
   */
  @Test
  void hubCommandPrintsNoRestrictedMethodWarnings() throws Exception {
    Path ca = dir.resolve("ca");
    assertEquals(0, run("ca", "init", "--mesh", "jar.test", "--dir", ca.toString()).exitCode());
    assertEquals(0, run("ca", "issue", "--dir", ca.toString(), "--role", "admin", "--name", "ops").exitCode());
    Files.move(ca.resolve("admin-ops.crt"), ca.resolve("admin.crt"));
    Files.move(ca.resolve("admin-ops.key"), ca.resolve("admin.key"));
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }

    JavaProcess.Result r = run("clusters", "list", "--hub", "127.0.0.1:" + closed, "--credentials", ca.toString());

    assertEquals(1, r.exitCode(), r.toString());
    assertEquals("", r.stdout(), r.toString());
    assertFalse(r.stderr().contains("WARNING"), r.stderr());
    assertEquals(1, r.stderr().lines().count(), r.stderr());
    assertTrue(r.stderr().startsWith("meshwire: UNAVAILABLE: Connection refused: "), r.stderr());
  }

  @Test
  void unknownCommandFailsFromTheJar() throws Exception {
    JavaProcess.Result r = run("nosuchcommand", "--help");
    assertEquals(2, r.exitCode(), r.toString());
    assertEquals("", r.stdout(), r.toString());
    assertTrue(r.stderr().startsWith("Unknown command: 'nosuchcommand'"), r.stderr());
  }
}
