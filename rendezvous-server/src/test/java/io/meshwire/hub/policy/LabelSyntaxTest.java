package io.meshwire.hub.policy;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwire.hub.membership.Rejection;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LabelSyntaxTest {

  @ParameterizedTest
  @ValueSource(strings = {"env", "team_a", "a.b-c", "app.kubernetes.io/name", "example.com/x", "A1"})
  void acceptsKubernetesLabelKeys(String key) {
    assertDoesNotThrow(() -> LabelSyntax.key("labels", key));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-env", "env-", "has space", "Example.com/x", "/name", "a/", "a/b/c",
      "0123456789012345678901234567890123456789012345678901234567890123", "ex_ample.com/x"})
  void refusesKeysOutsideKubernetesSyntaxNamingTheField(String key) {
    Rejection e = assertThrows(Rejection.class, () -> LabelSyntax.key("labels key", key));
    assertEquals(Rejection.Kind.INVALID_ARGUMENT, e.kind());
    assertTrue(e.getMessage().startsWith("labels key: "), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "prod", "v1.2_3-a"})
  void acceptsValues(String value) {
    assertDoesNotThrow(() -> LabelSyntax.value("v", value));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-prod", "prod.", "a b", "é", "0123456789012345678901234567890123456789012345678901234567890123"})
  void refusesValuesOutsideKubernetesSyntax(String value) {
    Rejection e = assertThrows(Rejection.class, () -> LabelSyntax.value("labels[env]", value));
    assertTrue(e.getMessage().startsWith("labels[env]: "), e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void namesTheKeyOfABadValueInAMap() {
    Rejection e = assertThrows(Rejection.class,
        () -> LabelSyntax.labels("labels", Map.of("env", "prod", "team", "bad value")));
    assertTrue(e.getMessage().startsWith("labels[team]: "), e.getMessage());
  }
}
