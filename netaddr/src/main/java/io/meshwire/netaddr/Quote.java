package io.meshwire.netaddr;

/**
 * {@code Quote} is how meshwire quotes untrusted input in status messages, errors and log lines:
 * at most {@link #MAX_CHARS} characters in double quotes, control characters, quotes and
 * backslashes escaped (one event stays one log line), and the full length when it was cut. A
 * 1 MiB endpoint becomes a 200-character quote, not a 1 MiB status message. Stateless.
 */
public final class Quote {

  /** The longest prefix of an input that is ever quoted. */
  public static final int MAX_CHARS = 200;

  private Quote() {}

  /**
   * {@code "abc"}, or {@code "abc..." (10000 chars)} when {@code text} is longer than {@link
   * #MAX_CHARS}; {@code null} prints as {@code null}.
   */
  public static String of(String text) {
    if (text == null) {
      return "null";
    }
    int shown = Math.min(text.length(), MAX_CHARS);
    StringBuilder out = new StringBuilder(shown + 24).append('"');
    appendEscaped(out, text, shown, true);
    if (shown < text.length()) {
      return out.append("...\" (").append(text.length()).append(" chars)").toString();
    }
    return out.append('"').toString();
  }

  /**
   * Appends the first {@code end} characters of {@code s} to {@code out}, escaped as in a JSON
   * string literal: {@code "} and {@code \} with a backslash; newline, carriage return and tab as
   * {@code \n}, {@code \r}, {@code \t}; every other character below U+0020 as {@code \}{@code
   * u00xx} (lower-case hex); everything else as it is. The one escaping routine of the tree (quotes
   * here, JSON strings in observability).
   *
   * @param escapeDel whether U+007F is escaped too: in log lines and status messages (a terminal
   *     control character), not in JSON (which allows it as it is)
   */
  public static StringBuilder appendEscaped(StringBuilder out, CharSequence s, int end, boolean escapeDel) {
    for (int i = 0; i < end; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || (escapeDel && c == 0x7f)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out;
  }

  /** The longest status message or error text that is ever sent whole. */
  public static final int MAX_MESSAGE_CHARS = 1000;

  /**
   * A message built by code (which may embed inputs quoted by others) cut to {@link
   * #MAX_MESSAGE_CHARS}, with its full length when cut: the last line of defence for status
   * descriptions, so no client ever sees metadata above its header limit.
   */
  public static String cut(String message) {
    if (message == null || message.length() <= MAX_MESSAGE_CHARS) {
      return message;
    }
    return message.substring(0, MAX_MESSAGE_CHARS) + "... (" + message.length() + " chars)";
  }
}
