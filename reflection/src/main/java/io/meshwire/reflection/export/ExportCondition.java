package io.meshwire.reflection.export;

import java.util.Objects;

/**
 * {@code ExportCondition} is one condition meshwire maintains on a ServiceExport, without its
 * transition time (which the writer keeps while the condition stays the same).
 *
 * @param type {@code Valid} or {@code Conflict}
 * @param status {@code True}, {@code False} or {@code Unknown}
 */
record ExportCondition(String type, String status, String reason, String message) {

  public ExportCondition {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }

  public static ExportCondition isTrue(String type, String reason, String message) {
    return new ExportCondition(type, "True", reason, message);
  }

  public static ExportCondition isFalse(String type, String reason, String message) {
    return new ExportCondition(type, "False", reason, message);
  }
}
