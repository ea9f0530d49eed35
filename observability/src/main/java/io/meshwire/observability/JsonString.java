package io.meshwire.observability;

/**
 * {@code JsonString} writes a Java string as a JSON string literal, for the JSON documents built
 * by hand here (the agent's {@code /status}, the bench reports). Stateless, so thread-safe.
 *
 * <p>The rules: {@code "} and {@code \} are escaped with a backslash; newline, carriage return and
 * tab as {@code \n}, {@code \r}, {@code \t}; every other character below U+0020 as {@code \}{@code
 * u00xx} (lower-case hex); everything else, non-ASCII included, is written as it is. The literal is
 * meant to be sent as UTF-8.
 */
public final class JsonString {

  private JsonString() {}

  /** {@code s} as a JSON string literal, quotes included. */
  public static String quote(String s) {
    return appendQuoted(new StringBuilder(s.length() + 2), s).toString();
  }

  /** Appends {@code s} as a JSON string literal, quotes included, to {@code out}; returns {@code out}. */
  public static StringBuilder appendQuoted(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"');
  }
}
