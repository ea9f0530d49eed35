package io.meshwire.testsupport.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class RequirementsTest {
  private static final Requirements MISSING =
      new Requirements(List.of("not root (euid 1000): namespaces and WireGuard need root",
          "wg not found on PATH (Debian: apt-get install wireguard-tools)"));

  @Test
  void metRequirementsLetTheTestRun() {
    new Requirements(List.of()).enforce(Map.of(Requirements.REQUIRED_ENV, "1"));
  }

  @Test
  void missingRequirementsSkipWithWhatIsMissing() {
    TestAbortedException e =
        assertThrows(TestAbortedException.class, () -> MISSING.enforce(Map.of()));
    assertEquals(
        "network namespace test needs: not root (euid 1000): namespaces and "
            + "WireGuard need root; wg not found on PATH (Debian: apt-get install wireguard-tools)",
        e.getMessage());
  }

  @Test
  void missingRequirementsFailWhenE2eIsRequired() {
    AssertionFailedError e =
        assertThrows(
            AssertionFailedError.class,
            () -> MISSING.enforce(Map.of(Requirements.REQUIRED_ENV, "1")));
    assertTrue(e.getMessage().endsWith("(MESHWIRE_E2E_REQUIRED=1, so this fails instead of skipping)"),
        e.getMessage());
  }

  @Test
  void onlyTheValueOneMakesThemRequired() {
    assertThrows(
        TestAbortedException.class, () -> MISSING.enforce(Map.of(Requirements.REQUIRED_ENV, "true")));
  }
}
