package io.meshwire.hub.api;

import io.meshwire.proto.rendezvous.v1.ReportStatusRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code LinkReports} keeps the latest {@code ReportStatus} of each cluster, for the admin link
 * matrix. Not durable: agents report again every few seconds. Thread-safe.
 */
final class LinkReports {

  private final Map<String, ReportStatusRequest> latest = new ConcurrentHashMap<>();

  void put(String clusterId, ReportStatusRequest report) {
    latest.put(clusterId, report);
  }

  void remove(String clusterId) {
    latest.remove(clusterId);
  }

  Map<String, ReportStatusRequest> all() {
    return Map.copyOf(latest);
  }
}
