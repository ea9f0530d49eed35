package io.meshwire.agent.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gateway endpoints from a file a platform hook keeps true: changes are reported, bad content never wins. */
class EndpointFileTest {

  private static final HostPort CONFIGURED = new HostPort("192.0.2.10", 51820);
  private static final HostPort PUBLIC = new HostPort("203.0.113.10", 51820);

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("endpoint");
  }

  /** As a hook should: a temporary file renamed over the old one. */
  private void write(String content) throws IOException {
    Path tmp = dir.resolve("endpoint.tmp");
    Files.writeString(tmp, content);
    Files.move(tmp, file(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void theFilesEndpointsAreAnnouncedAndAChangeIsReportedOnce() throws IOException {
    write("# from the cloud's metadata\n203.0.113.10:51820\n");
    EndpointFile source = new EndpointFile(file(), List.of(CONFIGURED));
    assertEquals(List.of(PUBLIC), source.endpoints());
    assertFalse(source.check(), "nothing changed");

    write("198.51.100.7:51820, [2001:db8::7]:51820\n");
    assertTrue(source.check());
    assertEquals(List.of(new HostPort("198.51.100.7", 51820), new HostPort("2001:db8::7", 51820)), source.endpoints());
    assertFalse(source.check(), "reported once");

    write("198.51.100.7:51820\n[2001:db8::7]:51820   # same endpoints, written differently\n");
    assertFalse(source.check(), "the same endpoints are not announced again");
  }

  @Test
  void aMissingEmptyOrMalformedFileKeepsTheLastGoodEndpoints() throws IOException {
    write("203.0.113.10:51820\n");
    EndpointFile source = new EndpointFile(file(), List.of());

    for (String bad : List.of("", "# nothing yet\n", "203.0.113.10\n", "203.0.113.10:70000\n",
        "1.1.1.1:1,1.1.1.2:1,1.1.1.3:1,1.1.1.4:1,1.1.1.5:1,1.1.1.6:1,1.1.1.7:1,1.1.1.8:1,1.1.1.9:1\n")) {
      write(bad);
      assertFalse(source.check(), () -> "\"" + bad + "\" is refused");
      assertEquals(List.of(PUBLIC), source.endpoints());
    }
    write("x".repeat(5000));
    assertFalse(source.check(), "oversized");
    Files.delete(file());
    assertFalse(source.check(), "missing");
    assertEquals(List.of(PUBLIC), source.endpoints());
  }

  @Test
  void atStartTheConfiguredEndpointStandsInUntilTheFileIsUsable() throws IOException {
    EndpointFile source = new EndpointFile(file(), List.of(CONFIGURED));
    assertEquals(List.of(CONFIGURED), source.endpoints());

    write("203.0.113.10:51820\n");
    assertTrue(source.check());
    assertEquals(List.of(PUBLIC), source.endpoints());
  }

  @Test
  void withoutAFallbackAnUnusableFileFailsTheStartNamingIt() throws IOException {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> new EndpointFile(file(), List.of()));
    assertTrue(missing.getMessage().contains(file() + ": does not exist"), missing.getMessage());
    write("gateway.example.net\n");
    IllegalArgumentException malformed = assertThrows(IllegalArgumentException.class,
        () -> new EndpointFile(file(), List.of()));
    assertTrue(malformed.getMessage().contains("entry 1: \"gateway.example.net\": expected host:port"),
        malformed.getMessage());
  }
}
