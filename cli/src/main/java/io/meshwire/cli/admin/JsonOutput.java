package io.meshwire.cli.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * {@code JsonOutput} prints admin API messages in the proto3 JSON mapping (lowerCamelCase names,
 * RFC 3339 times, base64 bytes), with fields at their default value included so scripts can rely
 * on every field being present. Stateless.
 */
final class JsonOutput {

  private static final JsonFormat.Printer PRETTY =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence().sortingMapKeys();
  private static final JsonFormat.Printer COMPACT = PRETTY.omittingInsignificantWhitespace();

  private JsonOutput() {}

  /** One message as one indented JSON object. */
  static void print(PrintWriter out, MessageOrBuilder message) {
    out.println(format(PRETTY, message));
    out.flush();
  }

  /** Messages as one JSON array. */
  static void printArray(PrintWriter out, List<? extends MessageOrBuilder> messages) {
    if (messages.isEmpty()) {
      out.println("[]");
    } else {
      out.println("[");
      for (int i = 0; i < messages.size(); i++) {
        out.print(format(PRETTY, messages.get(i)).indent(2).stripTrailing());
        out.println(i < messages.size() - 1 ? "," : "");
      }
      out.println("]");
    }
    out.flush();
  }

  /** One message on one line, for streams (JSON Lines). */
  static void printLine(PrintWriter out, MessageOrBuilder message) {
    out.println(format(COMPACT, message));
    out.flush();
  }

  private static String format(JsonFormat.Printer printer, MessageOrBuilder message) {
    try {
      return printer.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only an Any of an unknown type fails here; the admin API has none.
      throw new UncheckedIOException(e);
    }
  }
}
