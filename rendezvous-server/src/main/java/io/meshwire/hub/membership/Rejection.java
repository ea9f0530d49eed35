package io.meshwire.hub.membership;

/**
 * {@code Rejection} is an expected refusal of a request, with the kind the transport maps to a
 * status code and a message that names the offending field. Thrown before anything changes.
 */
public final class Rejection extends Exception {

  /** How the refusal maps onto gRPC status codes at the edge. */
  public enum Kind { INVALID_ARGUMENT, PERMISSION_DENIED, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS }

  private final Kind kind;

  public Rejection(Kind kind, String message) {
    super(message, null, false, false); // expected outcome: no stack trace
    this.kind = kind;
  }

  public static Rejection invalid(String field, String problem) {
    return new Rejection(Kind.INVALID_ARGUMENT, field + ": " + problem);
  }

  /** A message that broke a rule of the shared validator. */
  public static Rejection of(io.meshwire.validation.InvalidField e) {
    return new Rejection(Kind.INVALID_ARGUMENT, e.getMessage());
  }

  public Kind kind() {
    return kind;
  }
}
