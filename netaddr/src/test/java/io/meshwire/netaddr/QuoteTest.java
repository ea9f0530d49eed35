package io.meshwire.netaddr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class QuoteTest {

  @Test
  void shortInputIsQuotedWhole() {
    assertEquals("\"10.0.0.0/8\"", Quote.of("10.0.0.0/8"));
    assertEquals("null", Quote.of(null));
  }

  @Test
  void longInputIsCutToABoundedPrefixWithItsLength() {
    String quoted = Quote.of("a".repeat(1 << 20));
    assertTrue(quoted.startsWith("\"" + "a".repeat(Quote.MAX_CHARS) + "...\""), quoted);
    assertTrue(quoted.endsWith(" (1048576 chars)"), quoted);
    assertTrue(quoted.length() < Quote.MAX_CHARS + 30);
  }

  @Test
  void controlCharactersAndQuotesAreEscapedSoOneEventStaysOneLine() {
    assertEquals("\"a\\nb\\\"c\\\\d\\u0000\"", Quote.of("a\nb\"c\\d\u0000"));
  }
}
