package io.meshwire.observability;

import io.meshwire.netaddr.Quote;

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
    Quote.appendEscaped(out, s, s.length(), false);
    return out.append('"');
  }
}
