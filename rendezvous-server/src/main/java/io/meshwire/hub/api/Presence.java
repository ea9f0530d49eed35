package io.meshwire.hub.api;

import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code Presence} is what agents tell the hub between membership changes: when each cluster was
 * last seen (any authenticated call) and its latest {@code ReportStatus}, for {@code meshwire
 * status} and the admin link matrix. Not durable: agents call and report again every few seconds.
 * One hub keeps it in memory ({@link #inMemory()}); replicas on etcd share it there.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
public interface Presence {

  /** A call authenticated as {@code clusterId} arrived at {@code at}. */
  void seen(String clusterId, Instant at);

  /** {@code clusterId}'s newest link report. */
  void reported(String clusterId, ReportStatusRequest report);

  /** The cluster left the mesh (removed or revoked): its presence goes with it. */
  void forget(String clusterId);

  /** When each cluster was last seen, by any replica. */
  Map<String, Instant> lastSeen();

  /** Each cluster's newest link report, from any replica. */
  Map<String, ReportStatusRequest> reports();

  /** Presence of a single hub process. */
  static Presence inMemory() {
    return new Presence() {
      private final Map<String, Instant> seen = new ConcurrentHashMap<>();
      private final Map<String, ReportStatusRequest> latest = new ConcurrentHashMap<>();

      @Override
      public void seen(String clusterId, Instant at) {
        seen.put(clusterId, at);
      }

      @Override
      public void reported(String clusterId, ReportStatusRequest report) {
        latest.put(clusterId, report);
      }

      @Override
      public void forget(String clusterId) {
        latest.remove(clusterId);
      }

      @Override
      public Map<String, Instant> lastSeen() {
        return Map.copyOf(seen);
      }

      @Override
      public Map<String, ReportStatusRequest> reports() {
        return Map.copyOf(latest);
      }
    };
  }
}
