package io.meshwire.hub.etcd;

import java.io.Serial;

/**
 * {@code EtcdStartException}: the hub refuses to start on this etcd (unreachable, wrong
 * certificates, a prefix holding another mesh's data or a newer layout). The message names the
 * problem for the operator; nothing was written.
 */
public final class EtcdStartException extends RuntimeException {

  @Serial private static final long serialVersionUID = 1L;

  public EtcdStartException(String message) {
    super(message);
  }

  public EtcdStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
