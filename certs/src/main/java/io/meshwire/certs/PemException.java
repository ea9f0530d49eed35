package io.meshwire.certs;

/**
 * {@code PemException} reports a PEM file (or string) that cannot be used; the message starts with
 * the {@link #source()} (usually the file path) and says what is wrong, e.g. {@code
 * /etc/meshwire/ca.crt: no CERTIFICATE block found}.
 */
public final class PemException extends RuntimeException {

  private final String source;

  /** Creates an exception for {@code source} (a path or other description) saying {@code what}. */
  public PemException(String source, String what) {
    super(source + ": " + what);
    this.source = source;
  }

  /** Same, keeping {@code cause}. */
  public PemException(String source, String what, Throwable cause) {
    super(source + ": " + what, cause);
    this.source = source;
  }

  /** Returns the file path or other description of where the PEM came from. */
  public String source() {
    return source;
  }
}
