package io.meshwire.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** How {@link JsonString} writes each kind of character: one table of cases. */
class JsonStringTest {

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("empty", "", "\"\""),
        Arguments.of("plain ASCII as it is", "east-1 10.0.0.0/16", "\"east-1 10.0.0.0/16\""),
        Arguments.of("double quote", "say \"hi\"", "\"say \\\"hi\\\"\""),
        Arguments.of("backslash", "C:\\tmp\\", "\"C:\\\\tmp\\\\\""),
        Arguments.of("single quote and slash as they are", "it's a/b", "\"it's a/b\""),
        Arguments.of("newline", "a\nb", "\"a\\nb\""),
        Arguments.of("carriage return", "a\r\nb", "\"a\\r\\nb\""),
        Arguments.of("tab", "a\tb", "\"a\\tb\""),
        Arguments.of("NUL as \\u0000", "a\u0000b", "\"a\\u0000b\""),
        Arguments.of("backspace as \\u0008, not \\b", "\b", "\"\\u0008\""),
        Arguments.of("form feed as \\u000c (lower-case hex), not \\f", "\f", "\"\\u000c\""),
        Arguments.of("escape U+001B", "\u001b[0m", "\"\\u001b[0m\""),
        Arguments.of("last control character U+001F", "\u001f", "\"\\u001f\""),
        Arguments.of("space U+0020 as it is", " ", "\" \""),
        Arguments.of("DEL U+007F as it is", "\u007f", "\"\u007f\""),
        Arguments.of("C1 control U+0085 as it is", "\u0085", "\"\u0085\""),
        Arguments.of("Latin-1 and CJK as they are", "Zürich 東京", "\"Zürich 東京\""),
        Arguments.of("a surrogate pair as it is", "\ud83d\ude00", "\"\ud83d\ude00\""),
        Arguments.of("line and paragraph separators as they are", "\u2028\u2029", "\"\u2028\u2029\""),
        Arguments.of("a lone surrogate as it is (UTF-8 encoding makes it '?')", "\ud800", "\"\ud800\""),
        Arguments.of("everything at once", "\"\\\n\u0001é", "\"\\\"\\\\\\n\\u0001é\""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void quotes(String name, String input, String expected) {
    assertEquals(expected, JsonString.quote(input));
  }

  @Test
  void appendsAfterWhatIsAlreadyThere() {
    StringBuilder out = new StringBuilder("{\"cluster\":");

    JsonString.appendQuoted(out, "a\"b").append('}');

    assertEquals("{\"cluster\":\"a\\\"b\"}", out.toString());
  }
}
