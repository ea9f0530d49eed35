package io.meshwire.loadtests.report;

import io.meshwire.observability.JsonString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code Json} writes and reads the small JSON documents of the bench reports: maps (kept in
 * insertion order), lists, strings, numbers, booleans and null. Not a general-purpose library:
 * enough for results written here and read back by tests and {@code --replot}. Strings are
 * written by {@link JsonString}. Stateless.
 */
public final class Json {

  private Json() {}

  /** Pretty-prints {@code value} (two-space indent). NaN and infinities are written as null. */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out, 0);
    return out.append('\n').toString();
  }

  private static void write(Object value, StringBuilder out, int indent) {
    switch (value) {
      case null -> out.append("null");
      case String s -> JsonString.appendQuoted(out, s);
      case Boolean b -> out.append(b);
      case Double d -> out.append(d.isNaN() || d.isInfinite() ? "null" : format(d));
      case Float f -> write(f.doubleValue(), out, indent);
      case Number n -> out.append(n);
      case Map<?, ?> map -> {
        if (map.isEmpty()) {
          out.append("{}");
          return;
        }
        out.append("{\n");
        int i = 0;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          pad(out, indent + 1);
          JsonString.appendQuoted(out, String.valueOf(e.getKey()));
          out.append(": ");
          write(e.getValue(), out, indent + 1);
          out.append(++i < map.size() ? ",\n" : "\n");
        }
        pad(out, indent);
        out.append('}');
      }
      case List<?> list -> {
        if (list.isEmpty()) {
          out.append("[]");
          return;
        }
        boolean flat = list.stream().noneMatch(v -> v instanceof Map<?, ?> || v instanceof List<?>);
        out.append(flat ? "[" : "[\n");
        for (int i = 0; i < list.size(); i++) {
          if (!flat) {
            pad(out, indent + 1);
          }
          write(list.get(i), out, indent + 1);
          if (i + 1 < list.size()) {
            out.append(flat ? ", " : ",\n");
          }
        }
        if (!flat) {
          out.append('\n');
          pad(out, indent);
        }
        out.append(']');
      }
      default -> JsonString.appendQuoted(out, value.toString());
    }
  }

  private static String format(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return Double.toString(Math.round(d * 1000.0) / 1000.0);
  }

  private static void pad(StringBuilder out, int indent) {
    out.append("  ".repeat(indent));
  }

  /**
   * Parses a JSON document: objects become {@code LinkedHashMap<String, Object>}, arrays {@code
   * List<Object>}, numbers {@code Double}.
   *
   * @throws IllegalArgumentException with the offset of the first error
   */
  public static Object parse(String text) {
    Parser p = new Parser(text);
    Object v = p.value();
    p.skipSpace();
    if (p.pos != text.length()) {
      throw p.error("trailing characters");
    }
    return v;
  }

  /** The value at a path of map keys and list indexes, e.g. {@code at(doc, "runs", 0, "agents")}. */
  public static Object at(Object doc, Object... path) {
    Object v = doc;
    for (Object step : path) {
      v = switch (v) {
        case Map<?, ?> m when step instanceof String key -> m.get(key);
        case List<?> l when step instanceof Integer i && i < l.size() -> l.get(i);
        default -> null;
      };
      if (v == null) {
        return null;
      }
    }
    return v;
  }

  private static final class Parser {
    private final String s;
    private int pos;

    Parser(String s) {
      this.s = s;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("JSON at offset " + pos + ": " + what);
    }

    void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    Object value() {
      skipSpace();
      if (pos >= s.length()) {
        throw error("unexpected end");
      }
      char c = s.charAt(pos);
      return switch (c) {
        case '{' -> object();
        case '[' -> array();
        case '"' -> string();
        case 't' -> literal("true", Boolean.TRUE);
        case 'f' -> literal("false", Boolean.FALSE);
        case 'n' -> literal("null", null);
        default -> number();
      };
    }

    Object literal(String word, Object v) {
      if (!s.startsWith(word, pos)) {
        throw error("expected " + word);
      }
      pos += word.length();
      return v;
    }

    Map<String, Object> object() {
      Map<String, Object> m = new LinkedHashMap<>();
      pos++;
      skipSpace();
      if (s.charAt(pos) == '}') {
        pos++;
        return m;
      }
      while (true) {
        skipSpace();
        if (s.charAt(pos) != '"') {
          throw error("expected a key");
        }
        String key = string();
        skipSpace();
        if (s.charAt(pos++) != ':') {
          throw error("expected ':'");
        }
        m.put(key, value());
        skipSpace();
        char c = s.charAt(pos++);
        if (c == '}') {
          return m;
        }
        if (c != ',') {
          throw error("expected ',' or '}'");
        }
      }
    }

    List<Object> array() {
      List<Object> l = new ArrayList<>();
      pos++;
      skipSpace();
      if (s.charAt(pos) == ']') {
        pos++;
        return l;
      }
      while (true) {
        l.add(value());
        skipSpace();
        char c = s.charAt(pos++);
        if (c == ']') {
          return l;
        }
        if (c != ',') {
          throw error("expected ',' or ']'");
        }
      }
    }

    String string() {
      StringBuilder out = new StringBuilder();
      pos++;
      while (pos < s.length()) {
        char c = s.charAt(pos++);
        if (c == '"') {
          return out.toString();
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char e = s.charAt(pos++);
        switch (e) {
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'u' -> {
            out.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
            pos += 4;
          }
          default -> out.append(e);
        }
      }
      throw error("unterminated string");
    }

    Double number() {
      int start = pos;
      while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
        pos++;
      }
      if (start == pos) {
        throw error("unexpected character '" + s.charAt(pos) + "'");
      }
      return Double.parseDouble(s.substring(start, pos));
    }
  }
}
