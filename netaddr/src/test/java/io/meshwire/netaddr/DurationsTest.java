package io.meshwire.netaddr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource({"500ms, 500", "30s, 30000", "5m, 300000", "1h, 3600000", "90d, 7776000000"})
  void parsesAndFormatsBack(String text, long millis) {
    assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    assertEquals(text, Durations.format(Duration.ofMillis(millis)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "10", "1w", "-5s", "1.5h", "s"})
  void rejectsWhatIsNotADurationNamingIt(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
    assertEquals("\"" + text + "\" is not a duration (e.g. 500ms, 30s, 5m, 1h, 90d)", e.getMessage());
  }
}
