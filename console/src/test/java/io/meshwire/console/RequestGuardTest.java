package io.meshwire.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RequestGuardTest {

  private final RequestGuard guard = new RequestGuard("127.0.0.1", 8080);

  @Test
  void letsThePagesOwnRequestsThrough() {
    assertEquals(Optional.empty(), guard.refusal("127.0.0.1:8080", null, null));
    assertEquals(Optional.empty(), guard.refusal("localhost:8080", "http://localhost:8080", "same-origin"));
    assertEquals(Optional.empty(), guard.refusal("127.0.0.1:8080", "http://127.0.0.1:8080", "same-origin"));
    assertEquals(Optional.empty(), guard.refusal("LOCALHOST:8080", null, "none")); // typed into the address bar
  }

  @Test
  void refusesAnotherHostNameAsDnsRebindingWouldSendIt() {
    String why = guard.refusal("evil.example:8080", null, null).orElseThrow();
    assertTrue(why.contains("Host \"evil.example:8080\" is not this console"), why);
    assertTrue(guard.refusal("127.0.0.1:9999", null, null).isPresent(), "another port");
    assertTrue(guard.refusal("127.0.0.1", null, null).isPresent(), "no port");
  }

  @Test
  void refusesAMissingHost() {
    assertEquals(Optional.of("no Host header"), guard.refusal(null, null, null));
    assertEquals(Optional.of("no Host header"), guard.refusal("", null, null));
  }

  @Test
  void refusesAnotherOriginWithTheRightHost() {
    String why = guard.refusal("127.0.0.1:8080", "http://evil.example", "cross-site").orElseThrow();
    assertTrue(why.startsWith("Origin \"http://evil.example\" is another site"), why);
    assertTrue(guard.refusal("127.0.0.1:8080", "null", null).isPresent(), "sandboxed frame or file: page");
    assertTrue(guard.refusal("127.0.0.1:8080", "https://127.0.0.1:8080", null).isPresent(), "other scheme");
    assertTrue(guard.refusal("127.0.0.1:8080", "http://127.0.0.1:8081", null).isPresent(), "other port");
  }

  @Test
  void refusesCrossSiteRequestsThatCarryNoOrigin() {
    // <script src="http://127.0.0.1:8080/api/state"> on another site: no Origin, but the browser says cross-site.
    String why = guard.refusal("127.0.0.1:8080", null, "cross-site").orElseThrow();
    assertTrue(why.contains("Sec-Fetch-Site \"cross-site\""), why);
    assertTrue(guard.refusal("127.0.0.1:8080", null, "same-site").isPresent(), "another port of this host");
  }

  @Test
  void acceptsIpv6LoopbackInBrackets() {
    RequestGuard v6 = new RequestGuard("::1", 8080);
    assertEquals(Optional.empty(), v6.refusal("[::1]:8080", "http://[::1]:8080", "same-origin"));
    assertTrue(v6.refusal("127.0.0.1:8080", null, null).isPresent());
  }

  @Test
  void quotesABoundedPrefixOfAHostileHeader() {
    String why = guard.refusal("x".repeat(5000) + "\n", null, null).orElseThrow();
    assertTrue(why.length() < 300, why);
    assertTrue(!why.contains("\n"), why);
  }
}
