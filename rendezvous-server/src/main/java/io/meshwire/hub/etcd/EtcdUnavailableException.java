package io.meshwire.hub.etcd;

import java.io.Serial;

/**
 * {@code EtcdUnavailableException}: a hub write could not be committed because etcd has no quorum
 * or cannot be reached. The message says which, for the UNAVAILABLE status the caller gets.
 */
public final class EtcdUnavailableException extends RuntimeException {

  @Serial private static final long serialVersionUID = 1L;

  public EtcdUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
