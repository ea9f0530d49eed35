package io.meshwire.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.netaddr.HostPort;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConsoleConfigTest {

  private static ConsoleConfig listen(String address) {
    return new ConsoleConfig(HostPort.parseListen(address), "127.0.0.1:7443", Duration.ofSeconds(1));
  }

  @Test
  void servesLoopbackOnly() {
    assertEquals("127.0.0.1", listen("127.0.0.1:8080").bindHost());
    assertEquals("127.0.0.1", listen("localhost:8080").bindHost());
    assertEquals("::1", listen("[::1]:8080").bindHost());
    for (String outside : new String[] {"0.0.0.0:8080", "192.168.1.10:8080", "[::]:8080", "console.example:8080"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> listen(outside), outside);
      assertTrue(e.getMessage().contains("the console serves this machine only"), e.getMessage());
    }
  }
}
