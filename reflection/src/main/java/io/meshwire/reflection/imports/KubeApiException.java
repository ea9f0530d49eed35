package io.meshwire.reflection.imports;

/**
 * {@code KubeApiException} is a failed API call with its HTTP status: 404 not found, 409 conflict
 * or already exists, 0 when no answer came back (connection refused, timeout).
 */
public final class KubeApiException extends Exception {

  private static final long serialVersionUID = 1L;

  private final int code;

  public KubeApiException(int code, String message) {
    super(message);
    this.code = code;
  }

  public int code() {
    return code;
  }
}
