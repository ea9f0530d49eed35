package io.meshwire.agent.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One agent per interface name on a host; the refusal names the interface and its owner. */
class InterfaceClaimTest {

  @TempDir Path claims;
  @TempDir Path stateA;
  @TempDir Path stateB;

  @Test
  void aSecondAgentOnTheSameInterfaceIsRefusedNamingTheOwner() {
    try (InterfaceClaim first = InterfaceClaim.claim(claims, "mwclaim0", "east", stateA, () -> true)) {
      IllegalStateException refused = assertThrows(IllegalStateException.class,
          () -> InterfaceClaim.claim(claims, "mwclaim0", "west", stateB, () -> true));
      assertEquals("interface mwclaim0 is in use by another meshwire agent (pid " + ProcessHandle.current().pid()
          + ", cluster east, state dir " + stateA.toAbsolutePath().normalize()
          + "); give this agent another interface name, or stop that agent", refused.getMessage());
      InterfaceClaim.claim(claims, "mwclaim1", "west", stateB, () -> false).close(); // another name is free
    }
  }

  @Test
  void theOwnerRestartsButAnotherAgentDoesNotTakeTheDataPlaneItLeft() {
    InterfaceClaim.claim(claims, "mwclaim0", "east", stateA, () -> false).close(); // east stopped, tunnels serve
    InterfaceClaim.claim(claims, "mwclaim0", "east", stateA, () -> true).close(); // east restarts: its own

    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> InterfaceClaim.claim(claims, "mwclaim0", "west", stateB, () -> true));
    assertTrue(refused.getMessage().startsWith("interface mwclaim0 serves the data plane of another meshwire agent"
        + " (pid "), refused.getMessage());
    assertTrue(refused.getMessage().contains("cluster east, state dir " + stateA.toAbsolutePath().normalize()
        + ", not running)"), refused.getMessage());

    // Once that data plane is gone, the name is free for anyone.
    InterfaceClaim.claim(claims, "mwclaim0", "west", stateB, () -> false).close();
  }
}
