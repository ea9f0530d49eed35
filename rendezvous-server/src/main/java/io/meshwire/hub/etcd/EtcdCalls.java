package io.meshwire.hub.etcd;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@code EtcdCalls}: bounded waits on jetcd futures, with failures that say what was attempted. */
final class EtcdCalls {

  private EtcdCalls() {}

  /**
   * Waits at most {@code timeout} for {@code call}.
   *
   * @throws EtcdCallException saying {@code what} failed and why (the root cause's message)
   */
  static <T> T await(CompletableFuture<T> call, Duration timeout, String what) {
    try {
      return call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      call.cancel(true);
      throw new EtcdCallException(what + ": no answer from etcd within " + timeout.toMillis() + " ms", e);
    } catch (ExecutionException e) {
      throw new EtcdCallException(what + ": " + rootMessage(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EtcdCallException(what + ": interrupted", e);
    }
  }

  static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return root.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** A call to etcd failed or timed out. */
  static final class EtcdCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    EtcdCallException(String message, Throwable cause) {
      super(message, cause);
    }

    /** True when etcd did not answer in time: unlike an error, the call may still take effect. */
    boolean timedOut() {
      return getCause() instanceof TimeoutException;
    }
  }
}
